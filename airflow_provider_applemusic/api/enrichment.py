"""
Enriching listed items with their catalog resource and the user's rating: which ids to ask for,
in batches across pages, and the answers merged back into each item, pages kept in order.

:class:`Enricher` is the pure state (no requests): pages go in, full look-ups come out, answers
go in, finished pages come out in the order they went in. :func:`enrich_pages` drives it over a
stream of pages with a pool of threads, so that look-ups of early pages run while later pages
are still being fetched.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.catalog import catalog_id_of
from airflow_provider_applemusic.api.ids import short_repr
from airflow_provider_applemusic.api.ratings import MAX_RATING_IDS, RATING_KINDS
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

#: what ``enrich`` may name
ENRICHMENTS = ("catalog", "ratings")
#: the most ids one catalog multi-fetch asks for: Apple documents 300 for songs, but 200 to 300
#: ids with ``include`` answer 504 every time and 150 only with retries; clients use 100
MAX_CATALOG_IDS = 100
#: the catalog type behind each item type (a library type or a catalog one)
CATALOG_TYPE = {
    "library-songs": "songs",
    "songs": "songs",
    "library-albums": "albums",
    "albums": "albums",
    "library-music-videos": "music-videos",
    "music-videos": "music-videos",
    "library-playlists": "playlists",
    "playlists": "playlists",
}
#: listings whose items have neither a catalog fetch nor ratings (artists)
UNENRICHABLE = {"library-artists": "artists have no ratings and no catalog fetch by ids here"}
#: listings whose items name their catalog id only in the ``catalog`` relationship (library
#: albums and playlists have no ``playParams.catalogId``): ``catalog`` enrichment adds
#: ``include=catalog`` to their pages
NEEDS_CATALOG_RELATIONSHIP = frozenset({"library-albums", "library-playlists", "recently-added"})
#: ``catalog_status`` values: the catalog answered the id, the item has no catalog id (an
#: upload, a song without ``playParams``), the catalog no longer resolves the id
CATALOG_OK, CATALOG_NONE, CATALOG_WITHDRAWN = "ok", "none", "withdrawn"
#: pages waiting for look-ups before the driver stops taking new ones: bounds memory, and
#: makes the look-ups take their turn in the places the pager shares with them
MAX_PAGES_WAITING = 4


def validate_enrich(enrich: Any, resource: str, *, param: str = "enrich") -> tuple[str, ...]:
    """
    ``enrich`` (None, one name or a list of names) as a tuple in :data:`ENRICHMENTS`' order;
    raise naming ``param`` and what is allowed for an unknown name, or an enrichment
    ``resource``'s items cannot have.

    :param enrich: what the caller gave.
    :param resource: the listing (a row of the resource table).
    :param param: the parameter's name in errors.
    """
    if enrich is None:
        return ()
    names = [enrich] if isinstance(enrich, str) else enrich
    if not isinstance(names, list | tuple | set | frozenset):
        raise AppleMusicConfigError(
            f"{param} must be a list of {' and '.join(ENRICHMENTS)}, got {short_repr(enrich)}"
        )
    for name in names:
        if name not in ENRICHMENTS:
            raise AppleMusicConfigError(
                f"{param} may hold {' and '.join(map(repr, ENRICHMENTS))}, got {short_repr(name)}"
            )
    if names and resource in UNENRICHABLE:
        raise AppleMusicConfigError(
            f"{param}={sorted(names)!r} is not possible for resource {resource!r}: "
            f"{UNENRICHABLE[resource]}; leave {param} empty"
        )
    return tuple(name for name in ENRICHMENTS if name in names)


def include_for(resource: str, enrich: tuple[str, ...], include: str | None) -> str | None:
    """
    The listing's joined ``include``, with ``catalog`` added where ``catalog`` enrichment needs it.

    :param resource: the listing.
    :param enrich: the checked enrichments.
    :param include: the joined ``include`` the caller asked for (None: none).
    """
    names = [name for name in (include or "").split(",") if name]
    if "catalog" in enrich and resource in NEEDS_CATALOG_RELATIONSHIP and "catalog" not in names:
        names.append("catalog")
    return ",".join(names) or None


@dataclasses.dataclass(frozen=True)
class Lookup:
    """One request of an enrichment: ``kind`` ``catalog`` or ``ratings``, of ``type``'s ``ids``."""

    kind: str
    type: str
    ids: tuple[str, ...]


@dataclasses.dataclass
class EnrichmentStats:
    """What enrichment found, counted by item (repeats counted each time), and its requests."""

    catalog_ok: int = 0
    catalog_none: int = 0
    catalog_withdrawn: int = 0
    loved: int = 0
    disliked: int = 0
    unrated: int = 0
    catalog_requests: int = 0
    rating_requests: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (for the log and the return value)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Page:
    items: list[dict[str, Any]]
    #: (kind, type, id, item) of each look-up slot of the page's items
    slots: list[tuple[str, str, str, dict[str, Any]]]
    unassigned: int = 0
    open_lookups: int = 0


class Enricher:
    """
    The batching state of one enriched listing: pages in (:meth:`add`), full look-ups out,
    answers in (:meth:`answer`), finished pages out in order (:meth:`ready`).

    :param enrich: the checked enrichments (:func:`validate_enrich`).
    :param catalog_batch: ids per catalog look-up.
    :param rating_batch: ids per ratings look-up.
    """

    def __init__(
        self,
        enrich: tuple[str, ...],
        *,
        catalog_batch: int = MAX_CATALOG_IDS,
        rating_batch: int = MAX_RATING_IDS,
    ) -> None:
        self.enrich = enrich
        self.sizes = {"catalog": catalog_batch, "ratings": rating_batch}
        self.stats = EnrichmentStats()
        self._pages: list[_Page] = []
        self._first = 0  # the number of the first page in ``_pages``
        #: ids not yet in a look-up, by (kind, type): id -> the numbers of the pages waiting
        self._pending: dict[tuple[str, str], dict[str, list[int]]] = {}
        self._lookup_pages: dict[Lookup, set[int]] = {}

    @property
    def waiting(self) -> int:
        """Pages taken in and not yet handed out."""
        return len(self._pages)

    def add(self, items: list[dict[str, Any]]) -> list[Lookup]:
        """
        Take the next page in; return the look-ups that are now full.

        :param items: the page's items (enriched in place).
        """
        number = self._first + len(self._pages)
        page = _Page(items, [])
        for item in items:
            self._register(page, number, item)
        self._pages.append(page)
        return self._full(only_full=True)

    def flush(self) -> list[Lookup]:
        """No more pages: the look-ups of every id still waiting."""
        return self._full(only_full=False)

    def _register(self, page: _Page, number: int, item: dict[str, Any]) -> None:
        # the keys stand in one order whichever answer comes first: the same input, the same bytes
        if "catalog" in self.enrich:
            item["catalog"] = item["catalog_status"] = None
        if "ratings" in self.enrich:
            item["rating"] = None
        if "catalog" in self.enrich:
            catalog_type = CATALOG_TYPE.get(str(item.get("type")))
            catalog_id = catalog_id_of(item) if catalog_type else None
            if catalog_type and catalog_id:
                self._slot(page, number, item, ("catalog", catalog_type), catalog_id)
            else:
                item["catalog"], item["catalog_status"] = None, CATALOG_NONE
                self.stats.catalog_none += 1
        if "ratings" in self.enrich:
            kind, item_id = item.get("type"), item.get("id")
            if isinstance(kind, str) and kind in RATING_KINDS and isinstance(item_id, str) and item_id:
                self._slot(page, number, item, ("ratings", kind), item_id)
            else:
                item["rating"] = None
                self.stats.unrated += 1

    def _slot(
        self, page: _Page, number: int, item: dict[str, Any], key: tuple[str, str], item_id: str
    ) -> None:
        page.slots.append((key[0], key[1], item_id, item))
        page.unassigned += 1
        self._pending.setdefault(key, {}).setdefault(item_id, []).append(number)

    def _full(self, *, only_full: bool) -> list[Lookup]:
        lookups = []
        for (kind, kind_type), waiting in self._pending.items():
            size = self.sizes[kind]
            while len(waiting) >= size or (waiting and not only_full):
                ids = list(waiting)[:size]
                pages: set[int] = set()
                for item_id in ids:
                    for number in waiting.pop(item_id):
                        self._pages[number - self._first].unassigned -= 1
                        pages.add(number)
                for number in pages:
                    self._pages[number - self._first].open_lookups += 1
                lookup = Lookup(kind, kind_type, tuple(ids))
                self._lookup_pages[lookup] = pages
                lookups.append(lookup)
                if kind == "catalog":
                    self.stats.catalog_requests += 1
                else:
                    self.stats.rating_requests += 1
        return lookups

    def answer(self, lookup: Lookup, found: dict[str, Any]) -> None:
        """
        Merge a look-up's answer into its items: ``found`` maps ids to catalog ``attributes``
        (ids left out: withdrawn) or to ratings (ids left out: unrated).

        :param lookup: a look-up :meth:`add` or :meth:`flush` gave.
        :param found: its answer.
        """
        asked = set(lookup.ids)
        for number in self._lookup_pages.pop(lookup):
            page = self._pages[number - self._first]
            for kind, kind_type, item_id, item in page.slots:
                if kind == lookup.kind and kind_type == lookup.type and item_id in asked:
                    self._merge(kind, item, found.get(item_id))
            page.open_lookups -= 1

    def _merge(self, kind: str, item: dict[str, Any], value: Any) -> None:
        stats = self.stats
        if kind == "catalog":
            item["catalog"] = value
            item["catalog_status"] = CATALOG_OK if value is not None else CATALOG_WITHDRAWN
            if value is None:
                stats.catalog_withdrawn += 1
            else:
                stats.catalog_ok += 1
        else:
            item["rating"] = value
            if value == 1:
                stats.loved += 1
            elif value == -1:
                stats.disliked += 1
            else:
                stats.unrated += 1

    def ready(self) -> list[list[dict[str, Any]]]:
        """The leading pages whose look-ups are all answered, in order (handed out once)."""
        done = []
        while self._pages and not self._pages[0].unassigned and not self._pages[0].open_lookups:
            done.append(self._pages.pop(0).items)
            self._first += 1
        return done


def attributes_by_id(body: Any, wanted: Iterable[str]) -> dict[str, dict[str, Any]]:
    """
    ``{id: attributes}`` of the resources in a catalog multi-fetch's ``data``, for ``wanted`` ids only.

    :param body: the answer's body.
    :param wanted: the ids asked for.
    """
    asked = set(wanted)
    found: dict[str, dict[str, Any]] = {}
    for resource in (body or {}).get("data") or []:
        if isinstance(resource, dict) and resource.get("id") in asked:
            attributes = resource.get("attributes")
            found[str(resource["id"])] = attributes if isinstance(attributes, dict) else {}
    return found


def enrich_pages(
    pages: Iterable[list[dict[str, Any]]],
    enricher: Enricher,
    fetch: Callable[[Lookup], dict[str, Any]],
    workers: int,
) -> Iterator[list[dict[str, Any]]]:
    """
    ``pages`` with each item enriched, in their order, the look-ups sent by ``workers`` threads
    while later pages are read. ``fetch`` answers one look-up (:meth:`Enricher.answer`'s
    ``found``); its first error goes up, and look-ups not yet started are dropped.

    :param pages: the pages, in order.
    :param enricher: the batching state.
    :param fetch: answers one look-up (called from the pool's threads).
    :param workers: threads sending look-ups (their requests still pass the hook's limit).
    """
    running: dict[Future[dict[str, Any]], Lookup] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="applemusic-enrich") as pool:
        try:

            def settle(block: bool) -> None:
                if not running:
                    return
                done, _ = wait(running, timeout=None if block else 0, return_when=FIRST_COMPLETED)
                for future in done:
                    enricher.answer(running.pop(future), future.result())

            for page in pages:
                for lookup in enricher.add(list(page)):
                    running[pool.submit(fetch, lookup)] = lookup
                settle(block=False)
                yield from enricher.ready()
                # too many pages wait: take answers before the next page (not when they wait for
                # ids of pages still to come)
                while enricher.waiting > MAX_PAGES_WAITING and running:
                    settle(block=True)
                    yield from enricher.ready()
            for lookup in enricher.flush():
                running[pool.submit(fetch, lookup)] = lookup
            while running:
                settle(block=True)
                yield from enricher.ready()
            yield from enricher.ready()
        finally:
            for future in running:
                future.cancel()
