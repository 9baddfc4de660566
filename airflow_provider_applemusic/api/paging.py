"""
The one paging engine of every library listing: overlapping pages, stitched, fetched concurrently.

Offsets shift when the library changes while it is paged (the lists are alphabetical). Every
page after the first therefore starts one position early and the overlap is checked; a page
whose overlap does not check out is asked for again from further back. What "checks out" means
depends on the listing's identity: where an item is its id (the library listings),
:class:`PageStitcher` looks for an id seen last and yields each id once; where an entry is its
position (a playlist's tracks, which may hold a song twice, and the play history),
:class:`PositionalStitcher` compares the overlapping sequence of entries and keeps repeats.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_applemusic.api.seen import SeenIds

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

#: each page after the first starts this many positions early, to notice shifted offsets
PAGING_OVERLAP = 1
#: how often a page whose overlap shows no known item is fetched again from further back
PAGING_STEP_BACKS = 3


def next_offset(page: dict[str, Any]) -> int | None:
    """The offset in a page's ``next`` link, or None when there is no next page."""
    link = page.get("next")
    if not link:
        return None
    query = dict(parse_qsl(urlsplit(str(link)).query))
    try:
        return int(query.get("offset", ""))
    except ValueError:
        return None


def listing_params(
    page_size: int, include: str | None, extend: str | None, language: str | None
) -> dict[str, str]:
    """Query parameters of every page of a listing, but ``offset``."""
    params = {"limit": str(page_size)}
    if include:
        params["include"] = include
    if extend:
        params["extend"] = extend
    if language:
        params["l"] = language
    return params


def listing_ends_before(first_page: dict[str, Any], offset: int) -> bool:
    """
    Tell from a fresh first page whether the listing now ends at or before ``offset``.

    ``meta.total`` (which may count hidden entries, so errs on the long side) decides; without
    it, a first page without ``next`` holds the whole listing.
    """
    total = (first_page.get("meta") or {}).get("total")
    if not isinstance(total, int) or isinstance(total, bool):
        if first_page.get("next"):
            return False
        total = len(first_page.get("data") or [])
    return total <= offset


def step_back_offset(offset: int, page_size: int, attempt: int) -> int:
    """Where to fetch a page again after ``attempt`` overlaps showed no known item."""
    return max(0, offset - max(2, page_size // 4) * attempt)


class PageStitcher:
    """
    Joins overlapping pages of a listing whose items are known by id (the library listings)
    into one stream, each id once.

    :param page_size: items per page (how many recent ids to remember as anchors).
    """

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        #: every id yielded (compact: a library of 200,000 songs would take 20 MiB in a ``set``)
        self.seen = SeenIds()
        self._recent: list[str] = []

    def fresh(
        self, data: list[Any], *, overlapped: bool, force: bool = False, covered: int = 0
    ) -> list[Any] | None:
        """
        The items of a page not yet seen, in order.

        :param data: the page's ``data``.
        :param overlapped: the page was fetched from before the position following the last page.
        :param force: accept the page even when its overlap shows no known item.
        :param covered: unused here (see :class:`PositionalStitcher`).
        :return: the new items, or None when the overlap held no known item (fetch the page
            again from further back).
        """
        items = [a for a in data if isinstance(a, dict)]
        if not items:
            # nothing to place: an empty collection, a page of hidden entries, a shrunk end
            return []
        if overlapped and self._recent:
            recent = set(self._recent)
            anchor = next((i for i in range(len(items) - 1, -1, -1) if items[i].get("id") in recent), None)
            if anchor is None and not force:
                return None
            if anchor is not None:
                items = items[anchor + 1 :]
        result = []
        for item in items:
            item_id = item.get("id")
            if item_id is not None:
                if not self.seen.add(item_id):
                    continue
                self._recent.append(item_id)
            result.append(item)
        del self._recent[: max(0, len(self._recent) - self.page_size)]
        return result

    def state(self) -> dict[str, Any]:
        """Where the stitching stands, JSON-able and small (the ids seen are kept by the caller)."""
        return {"recent": list(self._recent)}

    def restore(self, state: dict[str, Any], seen: Iterable[str | None]) -> None:
        """
        Continue from :meth:`state` of an earlier stitcher.

        :param state: what :meth:`state` returned.
        :param seen: the ids yielded so far (items without an id as None).
        """
        self._recent = [str(i) for i in state.get("recent") or []]
        self.seen.update(i for i in seen if i is not None)

    def stitch(
        self,
        page: dict[str, Any],
        offset: int,
        refetch: Callable[[int], dict[str, Any]],
        *,
        covered: int | None = None,
    ) -> tuple[dict[str, Any], int, list[Any]]:
        """
        The new items of ``page``, fetched at ``offset``, fetching it again from further back
        (``refetch(offset)``) while its overlap does not check out, up to
        ``PAGING_STEP_BACKS`` times; then the page is accepted as it is.

        :param covered: the position following the last one the pages stitched so far covered
            (default: ``offset + PAGING_OVERLAP``).
        :return: the page finally used, its offset, and its new items.
        """
        end = offset + PAGING_OVERLAP if covered is None else covered
        start = offset
        attempt = 0
        while True:
            items = self.fresh(
                page["data"], overlapped=offset > 0, force=attempt >= PAGING_STEP_BACKS, covered=end - offset
            )
            if items is not None:
                return page, offset, items
            attempt += 1
            offset = step_back_offset(start, self.page_size, attempt)
            page = refetch(offset)


class PositionalStitcher(PageStitcher):
    """
    Joins overlapping pages of a listing whose entries are known by position (a playlist's
    tracks, the play history): every entry once, repeats kept, in the service's order.

    The same song may stand at several positions, so an overlap is checked as a *sequence*:
    the entries a page repeats from the pages before (its first ``covered`` positions) must be
    the last entries yielded, in order. A page whose overlap does not check out is fetched again
    from further back, as for the library listings; the longer overlap then shows where the
    entries moved (the playlist changed while it was paged). Where the service hides entries
    (pages shorter than ``limit``), fewer entries than positions overlap: the longest run of
    the overlap that checks out is taken.

    :param page_size: items per page.
    """

    def __init__(self, page_size: int) -> None:
        super().__init__(page_size)
        #: ids (None for an entry without one) of the entries yielded last, oldest first
        self._tail: list[str | None] = []
        #: a page came back shorter than ``page_size``: entries are hidden, positions are not exact
        self._hidden = False

    def fresh(
        self, data: list[Any], *, overlapped: bool, force: bool = False, covered: int = 0
    ) -> list[Any] | None:
        """
        The entries of a page after its overlap with the entries yielded so far, in order.

        :param data: the page's ``data``.
        :param overlapped: the page was fetched from before the position following the last page.
        :param force: accept the page even when its overlap does not check out.
        :param covered: how many positions at the page's start the pages before covered.
        :return: the new entries, or None when the overlap did not check out (fetch the page
            again from further back).
        """
        items = [a for a in data if isinstance(a, dict)]
        if not items:
            return []
        if overlapped and self._tail:
            ids = [item.get("id") for item in items]
            tail = self._tail
            longest = min(len(ids), len(tail))
            matches = [m for m in range(longest, 0, -1) if ids[:m] == tail[-m:]]
            if covered in matches:
                skip = covered  # the overlap is exactly where it should be
            elif self._hidden and any(m < covered for m in matches) and not force:
                skip = next(m for m in matches if m < covered)  # some overlapped entries are hidden
            elif force:
                skip = matches[0] if matches else min(covered, len(items))
            else:
                return None
            items = items[skip:]
        if len(data) < self.page_size:
            self._hidden = True
        self._tail.extend(item.get("id") for item in items)
        del self._tail[: max(0, len(self._tail) - 2 * self.page_size)]
        return items

    def state(self) -> dict[str, Any]:
        """Where the stitching stands: the last entries' ids and whether entries are hidden."""
        return {"tail": list(self._tail), "hidden": self._hidden}

    def restore(self, state: dict[str, Any], seen: Iterable[str | None]) -> None:
        """
        Continue from :meth:`state` of an earlier stitcher.

        :param state: what :meth:`state` returned.
        :param seen: unused (entries are known by position).
        """
        self._tail = list(state.get("tail") or [])
        self._hidden = bool(state.get("hidden"))


def make_stitcher(identity: str, page_size: int) -> PageStitcher:
    """The stitcher of a listing whose items are known by ``identity`` (``id`` or ``position``)."""
    return PositionalStitcher(page_size) if identity == "position" else PageStitcher(page_size)


@dataclass
class PagerStats:
    """Progress of a :class:`ListingPager`."""

    pages: int = 0
    requests: int = 0
    items: int = 0
    total: int | None = None


class _Inline:
    """A future-like that fetches when asked for its result: one page in flight, no thread."""

    def __init__(self, fetch: Callable[[int], dict[str, Any]], offset: int) -> None:
        self._fetch = fetch
        self._offset = offset

    def result(self) -> dict[str, Any]:
        return self._fetch(self._offset)

    def cancel(self) -> bool:
        return True


class ListingPager:
    """
    The one paging engine of every library listing: by offset, up to ``pages_in_flight`` pages
    at once, stitched, yielded in the API's order, page by page.

    The first page gives ``meta.total``; the following pages start one position early
    (:data:`PAGING_OVERLAP`) at offsets ``n * (page_size - 1)``, are fetched concurrently when
    ``pages_in_flight`` > 1, put back in order and yielded as soon as they are next in line.
    ``next`` is the authority on where the listing ends: fetching goes on past ``meta.total``
    while ``next`` is present and stops when it is absent. At most ``2 * pages_in_flight`` pages
    wait out of order. Each request is built afresh (``limit``, ``include``, ``extend``, ``l``
    always present), so what ``next`` drops is never lost. The empty, truncation and shrinking
    rules live in ``fetch_page``.

    :param fetch_page: ``fetch_page(offset) -> page body`` (thread-safe when ``pages_in_flight``
        > 1).
    :param page_size: items per page.
    :param pages_in_flight: pages fetched at once, at most (1: one after the other, no thread).
    :param identity: what makes an item itself in this listing (the resource's
        :attr:`~airflow_provider_applemusic.api.resources.ListingResource.identity`): ``id`` (each id
        once, :class:`PageStitcher`) or ``position`` (every entry, repeats kept,
        :class:`PositionalStitcher`).
    """

    def __init__(
        self,
        fetch_page: Callable[[int], dict[str, Any]],
        *,
        page_size: int,
        pages_in_flight: int = 1,
        identity: str = "id",
    ) -> None:
        self.fetch_page = fetch_page
        self.page_size = page_size
        self.identity = identity
        self.pages_in_flight = max(1, pages_in_flight)
        self.stats = PagerStats()
        self._lock = threading.Lock()
        self._stitcher = make_stitcher(identity, page_size)
        self._resume: dict[str, Any] | None = None
        #: (next page index, covered, frontier, done) after the page yielded last
        self._mark: tuple[int, int, int, bool] = (0, 0, 0, False)

    def _fetch(self, offset: int) -> dict[str, Any]:
        page = self.fetch_page(offset)
        with self._lock:
            self.stats.requests += 1
        return page

    def position(self) -> dict[str, Any]:
        """
        Where the paging stands after the page yielded last, JSON-able (a few KB: the stitcher's
        recent ids, not every id seen): give it to :meth:`resume_from` of a new pager of the same
        listing to go on from the next page, without fetching again what was yielded.
        """
        index, covered, frontier, done = self._mark
        return {
            "index": index,
            "covered": covered,
            "frontier": frontier,
            "done": done,
            "pages": self.stats.pages,
            "requests": self.stats.requests,
            "items": self.stats.items,
            "total": self.stats.total,
            "page_size": self.page_size,
            "identity": self.identity,
            "stitcher": self._stitcher.state(),
        }

    def resume_from(self, position: dict[str, Any], seen: Iterable[str | None]) -> None:
        """
        Go on from ``position`` (:meth:`position` of an earlier pager of the same listing) when
        iterated: the first page yielded is the one after it; stats go on from its figures.

        :param position: what :meth:`position` returned.
        :param seen: the ids yielded up to ``position``, in order (None for an item without one).
        """
        if position.get("page_size") != self.page_size or position.get("identity") != self.identity:
            raise ValueError("the position is of a listing paged another way")
        self._resume = position
        self._stitcher.restore(position.get("stitcher") or {}, seen)
        self.stats = PagerStats(
            pages=int(position["pages"]),
            requests=int(position["requests"]),
            items=int(position["items"]),
            total=position.get("total"),
        )
        self._mark = (
            int(position["index"]),
            int(position["covered"]),
            int(position["frontier"]),
            bool(position["done"]),
        )

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        """Yield, page by page in the API's order, the items not yet yielded."""
        if self._resume is not None:
            index, covered, frontier, done = self._mark
            if done:
                return
            yield from self._pool(index, covered, frontier)
            return
        stitcher = self._stitcher = make_stitcher(self.identity, self.page_size)
        first = self._fetch(0)
        self.stats.pages = 1
        total = (first.get("meta") or {}).get("total")
        self.stats.total = total if isinstance(total, int) else None
        items = stitcher.fresh(first["data"], overlapped=False) or []
        self.stats.items += len(items)
        end = next_offset(first)
        frontier = max(end or 0, self.stats.total or 0)
        self._mark = (1, end or 0, frontier, end is None)
        if end is None:
            yield items
            return
        # the next pages are on their way while the caller handles the first one
        yield from self._pool(1, end, frontier, head=items)

    def _pool(
        self, index: int, covered: int, frontier: int, head: list[dict[str, Any]] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        if self.pages_in_flight == 1:
            yield from self._follow(
                index, covered, frontier, lambda offset: _Inline(self._fetch, offset), head
            )
            return
        with ThreadPoolExecutor(self.pages_in_flight, thread_name_prefix="apple-music-page") as pool:
            yield from self._follow(
                index, covered, frontier, lambda offset: pool.submit(self._fetch, offset), head
            )

    def _follow(
        self,
        index: int,
        covered: int,
        frontier: int,
        submit: Callable[[int], Future[dict[str, Any]] | _Inline],
        head: list[dict[str, Any]] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """
        Pages from ``index`` on; ``covered``: the position after the last one a stitched page
        covered (a first page that is not a listing page, a playlist's inline tracks, may cover
        fewer than ``size``); ``frontier``: how far pages may be scheduled ahead; ``head``: the
        items of the page before, yielded once the next pages are scheduled.
        """
        stitcher = self._stitcher
        size = self.page_size
        stride = max(1, size - PAGING_OVERLAP)
        window = 2 * self.pages_in_flight if self.pages_in_flight > 1 else 1
        pending: dict[int, Future[dict[str, Any]] | _Inline] = {}
        scheduled = index
        try:
            while True:
                while len(pending) < window and (scheduled * stride < frontier or not pending):
                    pending[scheduled] = submit(scheduled * stride)
                    scheduled += 1
                if head is not None:
                    yield head
                    head = None
                    continue
                planned = index * stride
                # a page fetched again from further back covered less than planned: fill the gap
                while covered - PAGING_OVERLAP < planned:
                    start = covered - PAGING_OVERLAP
                    gap, used, items = stitcher.stitch(
                        self._fetch(start), start, self._fetch, covered=covered
                    )
                    done = next_offset(gap) is None
                    covered = max(covered, used + size)
                    self._mark = (index, covered, frontier, done)
                    yield self._count(items)
                    if done:
                        return
                page = pending.pop(index).result()
                page, used, items = stitcher.stitch(page, planned, self._fetch, covered=covered)
                following = next_offset(page)
                covered = max(covered, used + size)
                total = (page.get("meta") or {}).get("total")
                if following is not None:
                    frontier = max(frontier, following + 1, total if isinstance(total, int) else 0)
                index += 1
                self._mark = (index, covered, frontier, following is None)
                yield self._count(items)
                if following is None:
                    return
        finally:
            for future in pending.values():
                future.cancel()

    def _count(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.stats.pages += 1
        self.stats.items += len(items)
        return items


def progress_ticker(every_seconds: float) -> Callable[[], bool]:
    """A function that answers True at most once per ``every_seconds``."""
    last = [time.monotonic()]

    def due() -> bool:
        now = time.monotonic()
        if now - last[0] >= every_seconds:
            last[0] = now
            return True
        return False

    return due
