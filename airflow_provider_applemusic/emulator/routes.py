"""
The emulated API's paths and their read handlers, with the service's quirks.

The write handlers are in :mod:`airflow_provider_applemusic.emulator.writes`.

Every library listing (albums, songs, artists, playlists, a playlist's tracks, music videos)
and each history goes through one handler, :meth:`Router.listing`, so each has the same
quirks: ``next`` with ``offset`` only (no ``limit``, ``include``, ``extend``), short pages while
``next`` is present (``hidden_every``), alphabetical order ignoring articles and case (a
playlist's tracks: playlist order), 404 for an empty listing, ``dateAdded`` only with
``extend=dateAdded``, optional attributes missing.

The histories page with smaller page maxima (a larger ``limit`` answers 400 naming ``limit``;
default limit 10): ``/v1/me/library/recently-added`` (library albums and playlists by the moment
they were added, newest first, maximum 25 a page; it ends after the newest 150 entries however
large the library, with ``meta.total``), ``/v1/me/recent/played/tracks`` (newest first, maximum
30 a page, at most 50, no play times, no ``meta.total``, de-duplicated; without ``types`` only
catalog ``songs`` come back, ``types=songs,library-songs`` adds the library songs, each entry at
its position in the whole history, so pages of entries of other types come back short while
``next`` is present; music-video plays come back whatever ``types`` says, as ``{id, type,
href}`` only; ``library-songs`` entries carry no ``isrc`` nor ``url``), ``/v1/me/recent/played``
(catalog ``albums``, ``playlists`` and ``stations``, maximum 10 a page, at most 50, no
``meta.total``) and ``/v1/me/history/heavy-rotation`` (catalog ``albums`` and ``playlists``,
maximum 10 a page, at most 20, no ``meta.total``). Like the library they need the Music User
Token and a subscription; an empty history answers 404.

Catalog look-ups: ``GET /v1/catalog/{sf}/songs?filter[isrc]=A,B`` and ``/albums?filter[upc]=X,Y``
answer the catalog items with those codes (matched exactly as sent; unknown codes absent, 200
with empty ``data`` when none match; some ISRCs map to several songs, some UPCs to two albums),
at most :data:`CODE_BATCH_LIMIT` codes a request (400 naming the filter), never with ``ids``.

Catalog multi-fetch: ``GET /v1/catalog/{sf}/{type}?ids=A,B`` answers the resources it resolves, in
the order asked; unknown and withdrawn ids are left out of ``data`` (200, never 404). It takes
up to :data:`CATALOG_IDS_LIMIT` ids (more: 400 naming ``ids``), but with ``include`` more than
:data:`CATALOG_INCLUDE_SAFE` ids answer 504 (an HTML page): more than
:data:`CATALOG_INCLUDE_WORKS` every time, up to it the first time a set of ids is asked (it
works on a retry).

Ratings: ``GET /v1/me/ratings/{kind}?ids=A,B`` (``kind`` a catalog type or its library type; at
most :data:`RATINGS_BATCH_LIMIT` ids, more answer 400 naming ``ids``) answers 200 with one
``{"id", "type": "ratings", "attributes": {"value": 1 or -1}}`` per rated id; unrated and
unknown ids are absent. Artists have no ratings: ``/v1/me/ratings/artists`` and
``library-artists`` (any method, with or without an id) answer 400 code 40008 "Invalid Path
Value", like a singular kind (``song``).

Playlists: a library playlist carries ``canEdit``, ``canDelete``, ``isPublic``,
``hasCollaboration``, ``hasCatalog``, ``lastModifiedDate``, ``description.standard`` (when
described) and ``playParams`` ``{id, kind, isLibrary, globalId (pl.u-…, a playlist ever shared),
versionHash}``, no track count. Its tracks can hold one library song at several positions; an
entry is its position. Fetched by id with ``include=tracks`` it carries the tracks at its first
``relationship_limit`` positions under ``relationships.tracks.data`` (hidden ones left out),
``relationships.tracks.meta.total`` (every position) and, when there are more,
``relationships.tracks.next``. ``include=tracks`` on the playlists listing answers 400 (code
40005, naming ``include``).

Language: ``l`` on any request must be a well-formed tag (``en``, ``en-US``, ``zh-Hant-TW``:
:data:`LANGUAGE_TAG`), else 400 code 40005 naming ``l``; a well-formed tag the storefront lacks
is ignored. Real libraries: withdrawn catalog ids are left out of catalog multi-fetches and
``filter`` look-ups, answer 404 on ``GET /v1/catalog/{sf}/{type}/{id}`` and are ignored by
``POST /v1/me/library``.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.changes import change
from airflow_provider_applemusic.emulator.kinds import (
    CATALOG_TYPES,
    CODE_ATTRIBUTE,
    HEAVY_ROTATION,
    KIND_BY_SEGMENT,
    KINDS,
    LIBRARY_TYPE,
    PAGE_LIMITS,
    PLAYLIST_TRACKS,
    RATING_KINDS,
    RECENTLY_ADDED,
    RECENTLY_PLAYED,
    RECENTLY_PLAYED_RESOURCES,
    played_types,
)
from airflow_provider_applemusic.emulator.replay import MUSIC_SUMMARIES_PATH, music_summaries
from airflow_provider_applemusic.emulator.responses import (
    Response,
    error,
    html_error,
    json_response,
    not_found,
)
from airflow_provider_applemusic.emulator.writes import WriteRoutes

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator.accounts import Account
    from airflow_provider_applemusic.emulator.collection import Collection
    from airflow_provider_applemusic.emulator.gate import Gate
    from airflow_provider_applemusic.emulator.options import EmulatorOptions
    from airflow_provider_applemusic.emulator.stats import EmulatorStats
    from airflow_provider_applemusic.emulator.wire import Request

#: codes a ``filter[isrc]`` / ``filter[upc]`` look-up takes at most. Apple documents no limit;
#: 25 is the provider's choice (short URLs, small answers when one ISRC maps to several songs),
#: enforced here so a client that sends more is caught: 400 naming the filter.
CODE_BATCH_LIMIT = 25
#: the catalog filter each catalog type accepts
CODE_FILTERS = {kind: f"filter[{attribute}]" for kind, attribute in CODE_ATTRIBUTE.items()}
#: ids a catalog multi-fetch takes at most (Apple documents 300 for songs; more: 400 naming ``ids``)
CATALOG_IDS_LIMIT = 300
#: with ``include``, a multi-fetch of more ids than this answers 504 (clients use 100) ...
CATALOG_INCLUDE_SAFE = 100
#: ... the first time it is asked up to this many, every time beyond
CATALOG_INCLUDE_WORKS = 150
#: ids a ``/v1/me/ratings/{kind}`` request takes at most (more: 400 naming ``ids``)
RATINGS_BATCH_LIMIT = 200
#: a well-formed ``l`` (language tag) by BCP 47's grammar: language, optional script (4 letters),
#: optional region (2 letters or 3 digits), variants (5 to 8, or a digit and 3); a malformed one
#: answers 400 naming ``l`` (so does ``en-U1``, whose region is neither letters nor digits)
LANGUAGE_TAG = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"
)
#: the rating kinds that answer 400 "Invalid Path Value" (40008): artists have no ratings, and
#: singular kinds (``song``) are not paths
INVALID_RATING_KINDS = frozenset(
    {
        "artists",
        "library-artists",
        *(kind[:-1] for kind in (*RATING_KINDS, "stations", "artists", "library-artists")),
    }
)
LIBRARY_PREFIX = "/v1/me/library/"
#: the history listings outside ``/v1/me/library/``, by path
HISTORY_PATHS = {
    "/v1/me/recent/played/tracks": RECENTLY_PLAYED,
    "/v1/me/history/heavy-rotation": HEAVY_ROTATION,
    "/v1/me/recent/played": RECENTLY_PLAYED_RESOURCES,
}


def is_listing_page(request: Request) -> bool:
    """A GET of a library listing or history page (not a fetch by ``ids``)."""
    path = request.path
    listing = path.startswith(LIBRARY_PREFIX) or path in HISTORY_PATHS
    return request.method == "GET" and listing and "ids" not in request.query


@dataclass
class PageCounters:
    """Pages served so far, for the knobs that act every Nth page."""

    #: pages of ``recent/played/tracks``, for ``recently_played_short_every``
    played_pages: int = 0
    #: reads of ``recent/played/tracks`` (pages at offset 0), for ``stale_order_every``
    played_reads: int = 0
    #: pages by listing path, for ``change_every``
    by_path: collections.Counter[str] = field(default_factory=collections.Counter)
    #: library listing pages past offset 0, for ``truncate_every``
    past_zero: int = 0
    #: large catalog multi-fetches with ``include`` answered 504 once already (by query)
    slow_fetches: set[str] = field(default_factory=set)


def _method_not_allowed(allowed: str) -> Response:
    return error(405, "Method Not Allowed", f"Use {allowed}.", "40500")


def storefront_resource(storefront: str) -> dict[str, Any]:
    """The one storefront the emulator serves (``us``)."""
    return {
        "id": storefront,
        "type": "storefronts",
        "href": f"/v1/storefronts/{storefront}",
        "attributes": {
            "name": "United States",
            "defaultLanguageTag": "en-US",
            "supportedLanguageTags": ["en-US", "es-MX"],
            "explicitContentPolicy": "allowed",
        },
    }


def ids_param(query: dict[str, str], most: int, *, distinct: bool = False) -> list[str] | Response:
    """Query parameter ``ids`` (required, at most ``most``; ``distinct``: counted once each)."""
    ids = [i for i in query.get("ids", "").split(",") if i]
    if distinct:
        ids = list(dict.fromkeys(ids))
    if not ids:
        return error(400, "Invalid Parameter Value", "ids is required", "40005", "ids")
    if len(ids) > most:
        return error(400, "Invalid Parameter Value", f"At most {most} ids are allowed", "40005", "ids")
    return ids


def int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int | Response:
    """An integer query parameter from ``low`` to ``high`` (``default`` when absent), else a 400 naming it."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        return error(
            400, "Invalid Parameter Value", f"Value must be an integer from {low} to {high}", "40005", name
        )
    return value


def _extend(query: dict[str, str]) -> tuple[str, ...]:
    return tuple(v for v in query.get("extend", "").split(",") if v)


class Router(WriteRoutes):
    """The API's paths for one request, acting on the account of the user whose token it carries."""

    def __init__(
        self,
        options: EmulatorOptions,
        stats: EmulatorStats,
        account: Account,
        gate: Gate,
        counters: PageCounters,
    ) -> None:
        super().__init__(options, stats, account)
        self.gate = gate
        self.counters = counters

    def route(self, request: Request) -> Response:
        """The answer to a request that passed the gate."""
        path, query = request.path, request.query
        segments = [s for s in path.split("/") if s]
        language = query.get("l")
        if language is not None and not LANGUAGE_TAG.match(language):
            return error(400, "Invalid Parameter Value", f"Invalid language tag: {language!r}", "40005", "l")
        if segments[:2] == ["v1", "me"]:
            return self._me(request, segments)
        if segments[:2] == ["v1", "storefronts"] and len(segments) == 3:
            if request.method != "GET":
                return _method_not_allowed("GET")
            if segments[2] != "us":
                return not_found(f"No storefront {segments[2]}.")
            return json_response(200, {"data": [storefront_resource("us")]})
        if segments[:2] == ["v1", "catalog"] and len(segments) in (4, 5) and segments[3] in CATALOG_TYPES:
            if request.method != "GET":
                return _method_not_allowed("GET")
            if query.get("relate") == "library":
                denied = self.gate.check_user_token(request.headers)
                if denied is not None:
                    return denied
            if len(segments) == 5:
                return self.catalog_item(segments[2], segments[3], segments[4], query)
            return self.catalog(segments[2], segments[3], query)
        return not_found(f"No resource at {path}.")

    def _me(self, request: Request, segments: list[str]) -> Response:
        """``/v1/me/...``: the Music User Token's account (its library, histories, ratings, storefront)."""
        method, path, query = request.method, request.path, request.query
        denied = self.gate.check_user_token(request.headers)
        if denied is not None:
            return denied
        ratings = segments[:3] == ["v1", "me", "ratings"]
        if ratings and len(segments) >= 4 and segments[3] in INVALID_RATING_KINDS:
            return error(400, "Invalid Path Value", f"{segments[3]} is not a valid ratings type", "40008")
        library = segments[:3] == ["v1", "me", "library"]
        personal = library or path in HISTORY_PATHS or path == MUSIC_SUMMARIES_PATH
        if self.options.no_subscription and personal:
            detail = "The user does not have an active Apple Music subscription with Sync Library on."
            return error(403, "Insufficient Privileges", detail, "40015")
        if segments == ["v1", "me", "library"]:
            return self.add_to_library(query) if method == "POST" else _method_not_allowed("POST")
        if segments[:4] == ["v1", "me", "library", "playlists"] and method != "GET":
            return self.playlist_write(method, path, segments[4:], request.body)
        if method != "GET":
            return _method_not_allowed("GET")
        if segments == ["v1", "me", "storefront"]:
            return json_response(200, {"data": [storefront_resource("us")]})
        if ratings and len(segments) == 4 and segments[3] in RATING_KINDS:
            return self.ratings(segments[3], query)
        if path in HISTORY_PATHS:
            return self.listing(HISTORY_PATHS[path], None, path, query)
        if path == MUSIC_SUMMARIES_PATH:
            return music_summaries(self.library, query, missing=self.options.replay_missing)
        routed = self._library_read(path, segments[3:], query) if library else None
        return routed if routed is not None else not_found(f"No resource at {path}.")

    def _library_read(self, path: str, rest: list[str], query: dict[str, str]) -> Response | None:
        """``/v1/me/library/...`` GETs: listings, a playlist's tracks, single items."""
        if rest == [RECENTLY_ADDED]:
            return self.listing(RECENTLY_ADDED, None, path, query)
        kind = KIND_BY_SEGMENT.get(rest[0]) if rest else None
        if kind is None:
            return None
        if len(rest) == 1:
            return self.listing(kind.resource, None, path, query)
        if len(rest) == 3 and kind.segment == "playlists" and rest[2] == "tracks":
            return self.listing(PLAYLIST_TRACKS, rest[1], path, query)
        if len(rest) == 2 and kind.segment == "albums":
            return self.library_album(rest[1], query)
        if len(rest) == 2:
            return self.library_item(kind.resource, rest[1], query)
        return None

    # -- listings ------------------------------------------------------------------------------

    def listing(self, resource: str, parent_id: str | None, path: str, query: dict[str, str]) -> Response:
        """
        One page of any library listing or history, or its items by ``ids``; 404 (40400) for a
        playlist's tracks when there is no such playlist, or when the account does not serve
        song listings (``song_listings_missing``); ``include=tracks`` on playlists 400.
        """
        self.stats.listing_paths[path] += 1
        if self.options.song_listings_missing and resource in ("library-songs", PLAYLIST_TRACKS):
            # such accounts answer these listings like an empty collection, whatever they hold
            return not_found()
        if resource == RECENTLY_PLAYED and query.get("offset", "0") == "0":
            self.counters.played_reads += 1
            every = self.options.stale_order_every
            self.library.history.begin_read(bool(every) and self.counters.played_reads % every == 0)
        collection = self.library.listing(resource, parent_id, read=True)
        if collection is None:
            return not_found(f"Resource with id {parent_id} not found")
        include = query.get("include", "").split(",")
        if resource == "library-playlists" and "tracks" in include:
            detail = "include=tracks is not supported on the playlists listing: fetch a playlist by id"
            return error(400, "Invalid Parameter Value", detail, "40005", "include")
        include_catalog = "catalog" in include
        extend = _extend(query)
        if "ids" in query and resource in KINDS:
            ids = [i for i in query["ids"].split(",") if i]
            found = [collection.items[i] for i in ids if i in collection.items]
            return json_response(
                200, {"data": [self.library.item_resource(i, include_catalog, extend) for i in found]}
            )
        return self._page(resource, parent_id, collection, path, query, include_catalog, extend)

    def _page(
        self,
        resource: str,
        parent_id: str | None,
        collection: Collection,
        path: str,
        query: dict[str, str],
        include_catalog: bool,
        extend: tuple[str, ...],
    ) -> Response:
        """
        A page: ``limit`` 1..100 (default 25; the histories' smaller maxima and default 10:
        :data:`PAGE_LIMITS`), ``offset``; ``next`` carries only ``offset``; hidden items leave
        short pages; 404 for an empty listing and past the end; ``truncate_every`` 404s past
        offset 0; ``change_every`` changes the listing while it is paged; ``meta.total`` except
        on the play histories, which report none.
        """
        page_max, default_limit = PAGE_LIMITS[resource]
        limit = int_param(query, "limit", default_limit, 1, page_max)
        if isinstance(limit, Response):
            return limit
        offset = int_param(query, "offset", 0, 0, 10**9)
        if isinstance(offset, Response):
            return offset
        self.stats.page_sizes[limit] += 1
        total = len(collection)
        if offset >= total:
            # the service answers an empty collection (and a page past the end) with 404
            return not_found()
        counters, options = self.counters, self.options
        if offset > 0 and options.truncate_every:
            counters.past_zero += 1
            if counters.past_zero % options.truncate_every == 0:
                return not_found()
        wanted = played_types(query.get("types")) if resource == RECENTLY_PLAYED else None
        data = [
            self.library.item_resource(item, include_catalog, extend)
            for item in collection.window(offset, limit)
            if not item.hidden and (wanted is None or item.type in wanted)
        ]
        body: dict[str, Any] = {"data": data}
        if resource not in (RECENTLY_PLAYED, HEAVY_ROTATION, RECENTLY_PLAYED_RESOURCES):
            body["meta"] = {"total": total}
        if offset + limit < total:
            body["next"] = f"{path}?offset={offset + limit}"
        if resource == RECENTLY_PLAYED:
            counters.played_pages += 1
            every = options.recently_played_short_every
            if every and counters.played_pages % every == 0 and "next" in body:
                del data[-2:]  # as reported: limit=30 answers 28 while more exist
        counters.by_path[path] += 1
        if options.change_every and counters.by_path[path] % options.change_every == 0:
            change(self.library, resource, 1, 1, parent_id)
        return json_response(200, body)

    # -- single items --------------------------------------------------------------------------

    def library_item(self, resource: str, library_id: str, query: dict[str, str]) -> Response:
        """One library song, artist, playlist or music video; a playlist with ``include=tracks``."""
        item = self.library.collections[resource].items.get(library_id)
        if item is None or item.hidden:
            return not_found(f"Resource with id {library_id} not found")
        include = query.get("include", "").split(",")
        extend = _extend(query)
        body = self.library.item_resource(item, "catalog" in include, extend)
        tracks = self.library.tracks.get(library_id)
        if "tracks" in include and tracks is not None:
            # positional, like the tracks listing: the first ``limit`` positions, hidden ones left out
            limit = self.options.relationship_limit or len(tracks)
            relationship: dict[str, Any] = {
                "href": f"{item.href}/tracks",
                "data": [
                    self.library.item_resource(t, False, extend)
                    for t in tracks.window(0, limit)
                    if not t.hidden
                ],
                "meta": {"total": len(tracks)},
            }
            if len(tracks) > limit:
                relationship["next"] = f"{item.href}/tracks?offset={limit}"
            body.setdefault("relationships", {})["tracks"] = relationship
        return json_response(200, {"data": [body]})

    def library_album(self, library_id: str, query: dict[str, str]) -> Response:
        """One library album, with its tracks' ids as a relationship."""
        album = self.library.collections["library-albums"].items.get(library_id)
        if album is None or album.hidden:
            return not_found(f"Resource with id {library_id} not found")
        resource = self.library.item_resource(album, "catalog" in query.get("include", ""), _extend(query))
        tracks = [
            {"id": f"i.{album.library_id[2:]}{n:02d}", "type": "library-songs"}
            for n in range(1, int(album.attributes["trackCount"]) + 1)
        ]
        resource.setdefault("relationships", {})["tracks"] = {
            "href": f"/v1/me/library/albums/{library_id}/tracks",
            "data": tracks,
        }
        return json_response(200, {"data": [resource]})

    def ratings(self, kind: str, query: dict[str, str]) -> Response:
        """``GET /v1/me/ratings/{kind}?ids=...``: the rated ids' ratings; unrated ids absent."""
        ids = ids_param(query, RATINGS_BATCH_LIMIT, distinct=True)
        if isinstance(ids, Response):
            return ids
        data = []
        for item_id in ids:
            value = self.library.ratings.rating(kind, item_id)
            if value is not None:
                data.append(
                    {
                        "id": item_id,
                        "type": "ratings",
                        "href": f"/v1/me/ratings/{kind}/{item_id}",
                        "attributes": {"value": value},
                    }
                )
        return json_response(200, {"data": data})

    # -- the catalog ---------------------------------------------------------------------------

    def catalog(self, storefront: str, kind: str, query: dict[str, str]) -> Response:
        """Catalog items by ``ids`` or by a code filter; unknown and withdrawn ids left out."""
        filters = sorted(key for key in query if key.startswith("filter["))
        ids = self._filtered_ids(kind, filters, query) if filters else ids_param(query, CATALOG_IDS_LIMIT)
        if isinstance(ids, Response):
            return ids
        if not filters and query.get("include") and len(ids) > CATALOG_INCLUDE_SAFE:
            key = f"{kind}?{query['ids']}&{query['include']}"
            if len(ids) > CATALOG_INCLUDE_WORKS or key not in self.counters.slow_fetches:
                self.counters.slow_fetches.add(key)
                return html_error(504)
        catalog = self.library.catalog
        relate = query.get("relate") == "library"
        data = []
        for catalog_id in ids:
            if not catalog.resolves(kind, catalog_id):  # unknown or withdrawn: left out
                continue
            resource = catalog.resource(kind, catalog_id, storefront)
            if relate:
                library_id = self.library.in_library[kind].get(catalog_id)
                resource["relationships"] = {
                    "library": {
                        "href": f"/v1/catalog/{storefront}/{kind}/{catalog_id}/library",
                        "data": [{"id": library_id, "type": LIBRARY_TYPE[kind]}] if library_id else [],
                    }
                }
            data.append(resource)
        return json_response(200, {"data": data})

    def catalog_item(self, storefront: str, kind: str, catalog_id: str, query: dict[str, str]) -> Response:
        """``GET /v1/catalog/{sf}/{type}/{id}``: the one resource, or 404 (unknown or withdrawn)."""
        if any(key.startswith("filter[") for key in query) or "ids" in query:
            return error(400, "Invalid Parameter Value", "ids and filters need no id in the path", "40005")
        if not self.library.catalog.resolves(kind, catalog_id):
            return not_found(f"Resource with id {catalog_id} not found")
        return self.catalog(storefront, kind, {**query, "ids": catalog_id})

    def _filtered_ids(self, kind: str, filters: list[str], query: dict[str, str]) -> list[str] | Response:
        """
        The catalog ids a ``filter[isrc]`` (songs) or ``filter[upc]`` (albums) look-up names,
        codes matched exactly; a 400 when combined with ``ids``, for another filter, with no
        code or with more than :data:`CODE_BATCH_LIMIT`.
        """
        if "ids" in query:
            return error(
                400, "Invalid Parameter Value", "ids cannot be combined with a filter", "40005", "ids"
            )
        expected = CODE_FILTERS.get(kind)
        for name in filters:
            if name != expected:
                return error(
                    400, "Invalid Parameter Value", f"{name} is not supported for {kind}", "40005", name
                )
        assert expected is not None
        codes = [c for c in query[expected].split(",") if c]
        if not codes:
            return error(400, "Invalid Parameter Value", f"{expected} needs a value", "40005", expected)
        if len(codes) > CODE_BATCH_LIMIT:
            detail = f"At most {CODE_BATCH_LIMIT} values are allowed"
            return error(400, "Invalid Parameter Value", detail, "40005", expected)
        return self.library.catalog.codes[kind].lookup(codes)
