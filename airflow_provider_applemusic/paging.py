"""
Paging the user's library albums: stitching overlapping pages, and fetching them concurrently.

Offsets shift when the library changes while it is paged (the list is alphabetical). Every page
after the first therefore starts one position early; :class:`PageStitcher` checks that an album
seen last comes back in that overlap, and asks for the page again from further back when none
does. An album present throughout is so yielded exactly once, in order.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: each page after the first starts this many positions early, to notice shifted offsets
PAGING_OVERLAP = 1
#: how often a page whose overlap shows no known album is fetched again from further back
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


def step_back_offset(offset: int, page_size: int, attempt: int) -> int:
    """Where to fetch a page again after ``attempt`` overlaps showed no known album."""
    return max(0, offset - max(2, page_size // 4) * attempt)


class PageStitcher:
    """
    Joins overlapping pages into one stream of albums, each id once.

    :param page_size: albums per page (how many recent ids to remember as anchors).
    """

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.seen: set[str] = set()
        self._recent: list[str] = []

    def fresh(self, data: list[Any], *, overlapped: bool, force: bool = False) -> list[Any] | None:
        """
        The albums of a page not yet seen, in order.

        :param data: the page's ``data``.
        :param overlapped: the page was fetched from before the position following the last page.
        :param force: accept the page even when its overlap shows no known album.
        :return: the new albums, or None when the overlap held no known album (fetch the page
            again from further back).
        """
        albums = [a for a in data if isinstance(a, dict)]
        if not albums:
            # nothing to place: an empty collection, a page of hidden entries, a shrunk end
            return []
        if overlapped and self._recent:
            recent = set(self._recent)
            anchor = next((i for i in range(len(albums) - 1, -1, -1) if albums[i].get("id") in recent), None)
            if anchor is None and not force:
                return None
            if anchor is not None:
                albums = albums[anchor + 1 :]
        result = []
        for album in albums:
            album_id = album.get("id")
            if album_id is not None:
                if album_id in self.seen:
                    continue
                self.seen.add(album_id)
                self._recent.append(album_id)
            result.append(album)
        del self._recent[: max(0, len(self._recent) - self.page_size)]
        return result

    def stitch(
        self, page: dict[str, Any], offset: int, refetch: Callable[[int], dict[str, Any]]
    ) -> tuple[dict[str, Any], int, list[Any]]:
        """
        The new albums of ``page``, fetched at ``offset``, fetching it again from further back
        (``refetch(offset)``) while its overlap shows no known album, up to
        ``PAGING_STEP_BACKS`` times; then the page is accepted as it is.

        :return: the page finally used, its offset, and its new albums.
        """
        start = offset
        attempt = 0
        while True:
            albums = self.fresh(page["data"], overlapped=offset > 0, force=attempt >= PAGING_STEP_BACKS)
            if albums is not None:
                return page, offset, albums
            attempt += 1
            offset = step_back_offset(start, self.page_size, attempt)
            page = refetch(offset)


@dataclass
class PagerStats:
    """Progress of a :class:`ConcurrentAlbumPager`."""

    pages: int = 0
    requests: int = 0
    albums: int = 0
    total: int | None = None
    refetches: int = 0


class ConcurrentAlbumPager:
    """
    Fetch every library album with up to ``max_concurrency`` pages in flight, yielding in order.

    The first page gives ``meta.total``; the following pages are fetched by offset, concurrently,
    put back in order and yielded as soon as they are next in line. ``next`` decides where the
    library ends: fetching goes on past ``meta.total`` while ``next`` is present and stops when
    it is absent. At most ``2 * max_concurrency`` pages wait out of order.

    :param fetch_page: ``fetch_page(offset) -> page body`` (thread-safe).
    :param page_size: albums per page, 1 to 100.
    :param max_concurrency: pages in flight at once, at most.
    """

    def __init__(
        self,
        fetch_page: Callable[[int], dict[str, Any]],
        *,
        page_size: int,
        max_concurrency: int,
    ) -> None:
        self.fetch_page = fetch_page
        self.page_size = page_size
        self.max_concurrency = max_concurrency
        self.stats = PagerStats()
        self._lock = threading.Lock()

    def _fetch(self, offset: int) -> dict[str, Any]:
        page = self.fetch_page(offset)
        with self._lock:
            self.stats.requests += 1
        return page

    def _refetch(self, offset: int) -> dict[str, Any]:
        self.stats.refetches += 1
        return self._fetch(offset)

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        """Yield, page by page in the API's order, the albums not yet yielded."""
        size = self.page_size
        stride = max(1, size - PAGING_OVERLAP)
        stitcher = PageStitcher(size)
        first = self._fetch(0)
        self.stats.pages = 1
        total = (first.get("meta") or {}).get("total")
        self.stats.total = total if isinstance(total, int) else None
        albums = stitcher.fresh(first["data"], overlapped=False) or []
        self.stats.albums += len(albums)
        yield albums
        end = next_offset(first)
        if end is None:
            return
        frontier = max(end, self.stats.total or 0)
        window = 2 * self.max_concurrency
        pending: dict[int, Future[dict[str, Any]]] = {}
        index = 1
        scheduled = 1
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="apple-music-page") as pool:
            try:
                while True:
                    while len(pending) < window and (scheduled * stride < frontier or not pending):
                        offset = scheduled * stride
                        pending[scheduled] = pool.submit(self._fetch, offset)
                        scheduled += 1
                    page = pending.pop(index).result()
                    page, _, albums = stitcher.stitch(page, index * stride, self._refetch)
                    self.stats.pages += 1
                    self.stats.albums += len(albums)
                    yield albums
                    following = next_offset(page)
                    if following is None:
                        return
                    total = (page.get("meta") or {}).get("total")
                    frontier = max(frontier, following + 1, total if isinstance(total, int) else 0)
                    index += 1
            finally:
                for future in pending.values():
                    future.cancel()


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
