"""
AppleMusicHook and AppleMusicAsyncHook: the ``apple_music`` connection and thin drivers of the
hook operations. Each operation is written once as a plan
(:mod:`~airflow_provider_applemusic.hooks.operations`, :mod:`~airflow_provider_applemusic.api.listings`);
the sync hook runs it over the transport's ``send``, the async hook over its ``asend``
(:class:`~airflow_provider_applemusic.transport.transport.Transport`).

Over 600 lines: every public method of the sync hook is here, each a few lines of code under
the docstring that is its reference page; the work itself is in the plans.
"""

from __future__ import annotations

import itertools
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_applemusic.api.codes import CODE_KINDS, normalize_codes
from airflow_provider_applemusic.api.enrichment import Enricher, enrich_pages
from airflow_provider_applemusic.api.ids import normalize_ids, track_items
from airflow_provider_applemusic.api.listings import ListingQuery
from airflow_provider_applemusic.api.paging import ListingPager
from airflow_provider_applemusic.api.plans import run_plan
from airflow_provider_applemusic.api.ratings import normalize_rating_ids, validate_rating_kind
from airflow_provider_applemusic.api.resources import listing_resource
from airflow_provider_applemusic.api.validation import (
    MAX_PAGE_SIZE,
    validate_concurrency,
    validate_language,
    validate_storefront,
)
from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicError,
    AppleMusicSubscriptionError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.hooks.base import AppleMusicHookBase, api_request
from airflow_provider_applemusic.hooks.operations import (
    add_to_library_plan,
    append_tracks_plan,
    catalog_storefront_plan,
    code_resources_plan,
    create_playlist_plan,
    enrichment_plan,
    find_in_library_plan,
    first_resource,
    library_playlist_plan,
    playlist_path,
    ratings_plan,
    replay_plan,
    storefront_plan,
)
from airflow_provider_applemusic.transport.errors import developer_token_probe_path
from airflow_provider_applemusic.transport.transport import Request, Transport

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    import requests

    from airflow_provider_applemusic.api.enrichment import Lookup
    from airflow_provider_applemusic.api.plans import Plan
    from airflow_provider_applemusic.transport.budget import RequestBudget
    from airflow_provider_applemusic.transport.concurrency import (
        AdaptiveConcurrency,
    )
    from airflow_provider_applemusic.transport.connection import (
        AppleMusicSettings,
    )
    from airflow_provider_applemusic.transport.retries import RetryPolicy
    from airflow_provider_applemusic.transport.tokens import DeveloperTokenMinter


__all__ = ["AppleMusicAsyncHook", "AppleMusicHook", "first_resource", "playlist_path"]

_T = TypeVar("_T")
LIBRARY_ALBUMS = "library-albums"
#: extended attributes every library-albums request asks for (without it no album has a date)
ALBUMS_EXTEND = listing_resource(LIBRARY_ALBUMS).extended


class AppleMusicHook(AppleMusicHookBase):
    """
    Talk to the Apple Music API with an ``apple_music`` connection.

    Mints ES256 developer tokens from the connection's Team ID, Key ID and ``.p8`` key (cached,
    renewed before expiry and after a 401), sends the Music User Token, and runs every request
    through one transport (:class:`~airflow_provider_applemusic.transport.transport.Transport`):
    one retry policy (429, 5xx and connection errors, exponential backoff with full jitter,
    ``Retry-After`` honoured), one adaptive limit on requests in flight, the request budget.
    Every library listing is paged by one engine
    (:class:`~airflow_provider_applemusic.api.paging.ListingPager`).

    :param apple_music_conn_id: the connection to use.
    :param timeout_seconds: per-request timeout; wins over the connection's extra.
    :param max_attempts: attempts per request; wins over the connection's extra.
    :param max_retry_seconds: total seconds one request may spend retrying; wins over the extra.
    :param max_concurrency: the most requests of this hook in flight at once (1 to 64, default 8).
    """

    # -- configuration -------------------------------------------------------------------

    @cached_property
    def _loaded(self) -> tuple[AppleMusicSettings, DeveloperTokenMinter | None]:
        return self._load(self.get_connection(self.apple_music_conn_id))

    @cached_property
    def transport(self) -> Transport:
        """The transport every request of this hook goes through (built once, on first use)."""
        return self._transport_for(self._loaded)

    @property
    def settings(self) -> AppleMusicSettings:
        """The connection, validated (raises :class:`AppleMusicConfigError` naming the field)."""
        return self._loaded[0]

    @property
    def _minter(self) -> DeveloperTokenMinter | None:
        return self._loaded[1]

    @property
    def concurrency(self) -> AdaptiveConcurrency:
        """The adaptive limit every request of this hook passes."""
        return self.transport.concurrency

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy built from the connection and the constructor's overrides."""
        return self.transport.retry_policy

    @property
    def budget(self) -> RequestBudget | None:
        """The request budget every attempt waits for (None: the connection sets none)."""
        return self.transport.budget

    @property
    def session(self) -> requests.Session:
        """A pooled session (proxy and CA-bundle environment variables are honoured)."""
        return self.transport.session

    def get_conn(self) -> requests.Session:
        """Return the pooled ``requests.Session``."""
        return self.session

    def validate(self) -> None:
        """Check every connection field, and the key, without sending anything."""
        _ = self._minter

    def get_developer_token(self) -> str:
        """Return a valid developer token: the pre-minted one, or a cached or fresh ES256 JWT."""
        minter = self._minter
        if minter is not None:
            return minter.token()
        token = self.settings.developer_token
        if not token:
            raise AppleMusicConfigError(f"connection '{self.settings.conn_id}' has no developer token")
        return token

    # -- HTTP ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        user_token: bool = True,
        expect_json: bool = True,
        expect_data: bool = False,
        listing_offset: int | None = None,
        json_body: Any = None,
        idempotent: bool = True,
    ) -> Any:
        """
        Send one API request under the retry policy and return its decoded JSON body.

        A 401 that survives a fresh developer token is checked with a request carrying the
        developer token alone, to say which token was refused.

        :param method: HTTP method.
        :param path: path below the host, e.g. ``/v1/me/storefront``.
        :param params: query parameters.
        :param user_token: send the Music User Token.
        :param expect_json: decode the body (False for 202 responses without one).
        :param expect_data: the body must carry a ``data`` list (resource fetches); one that
            does not is retried like a damaged answer.
        :param listing_offset: the request is a page of a library listing at this offset: a 404
            at offset 0 is an empty collection, a 404 past it a truncation (retried).
        :param json_body: a JSON request body (writes).
        :param idempotent: False for a write that must not be sent twice blindly: a 5xx, a
            timeout or a dropped connection may have been applied, so it is raised at once for
            the caller to read back; 429s and a 401's re-mint (never applied) are still retried.
        """
        return self.transport.send(
            api_request(
                method,
                path,
                params,
                user_token=user_token,
                expect_json=expect_json,
                expect_data=expect_data,
                listing_offset=listing_offset,
                json_body=json_body,
                idempotent=idempotent,
            )
        )

    def run(self, plan: Plan[_T]) -> _T:
        """
        Drive a hook operation's plan over this hook's transport.

        :param plan: the operation's plan (a generator of requests).
        """
        return run_plan(plan, self.transport.send)

    # -- library listings ----------------------------------------------------------------

    def get_library_page(
        self,
        resource: str,
        offset: int = 0,
        *,
        page_size: int | None = None,
        include: Iterable[str] | str | None = None,
        extend: Iterable[str] | str | None = None,
        language: str | None = None,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        """
        Fetch one page of a library listing, as the API returned it.

        The resource's extended attributes (``dateAdded``) are always asked for. An empty
        collection (404 at offset 0) gives ``{"data": [], "meta": {"total": 0}}``, but where some
        accounts answer 404 whatever they hold: a playlist's tracks then come from the playlist
        fetched with ``include=tracks`` (the call's ``include`` does not reach the tracks;
        ``extend`` and ``l`` do), and library songs raise
        :class:`~airflow_provider_applemusic.exceptions.AppleMusicListingUnavailableError` when
        the library holds albums or playlists. A page past
        offset 0 that comes back missing (404) or without ``data`` is fetched again under the
        retry policy; if it stays missing, the first page is read again: when the listing now
        ends before ``offset`` (it shrank) the page is empty without ``next``, else
        :class:`AppleMusicRequestError` names the offset.

        :param resource: a row of :data:`~airflow_provider_applemusic.api.resources.LISTING_RESOURCES`,
            e.g. ``library-songs``.
        :param offset: index of the first item of the page.
        :param page_size: items per page; None: the resource's page maximum.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param extend: extended attributes to ask for besides the resource's own.
        :param language: the API's ``l`` (a language tag).
        :param parent_id: the playlist's library id, for ``library-playlist-tracks``.
        :return: the page body: ``data``, ``next`` (when more follow) and ``meta``.
        """
        _check_offset(offset)
        query = ListingQuery.checked(
            resource,
            page_size=page_size,
            include=include,
            extend=extend,
            language=language,
            parent_id=parent_id,
        )
        return self.run(query.page(offset, self.log))

    def library_pager(
        self,
        resource: str,
        *,
        page_size: int | None = None,
        include: Iterable[str] | str | None = None,
        extend: Iterable[str] | str | None = None,
        language: str | None = None,
        pages_in_flight: int = 1,
        parent_id: str | None = None,
    ) -> ListingPager:
        """
        The paging engine over one listing, checked before any request: iterate it for the
        items page by page (lists of new items, in order); ``.stats`` tells the progress.

        Parameters as :meth:`iter_library`.

        :param resource: a listing of the resource table (``library-albums``, ``recently-played-tracks``,
            ...).
        :param page_size: items per request; None: the resource's page maximum.
        :param include: relationships to include.
        :param extend: extended attributes besides those the resource always asks for.
        :param language: the API's ``l``.
        :param pages_in_flight: pages fetched at once, at most the hook's ``max_concurrency``.
        :param parent_id: the playlist of ``library-playlist-tracks``.
        """
        query = ListingQuery.checked(
            resource,
            page_size=page_size,
            include=include,
            extend=extend,
            language=language,
            parent_id=parent_id,
        )
        return self.query_pager(
            query, pages_in_flight=validate_concurrency(pages_in_flight, param="pages_in_flight")
        )

    def query_pager(self, query: ListingQuery, *, pages_in_flight: int = 1) -> ListingPager:
        """
        :meth:`library_pager` for a query its caller has checked already (an operator's, made
        from its arguments where the user gave them).

        :param query: what every page asks for.
        :param pages_in_flight: pages fetched at once (an integer from 1 to 64), never more than
            the hook's ``max_concurrency``.
        """
        return ListingPager(
            lambda offset: self.run(query.page(offset, self.log)),
            page_size=query.page_size,
            pages_in_flight=min(pages_in_flight, self.max_concurrency),
            identity=query.row.identity,
        )

    def iter_library(
        self,
        resource: str,
        *,
        page_size: int | None = None,
        include: Iterable[str] | str | None = None,
        extend: Iterable[str] | str | None = None,
        language: str | None = None,
        pages_in_flight: int = 1,
        parent_id: str | None = None,
        enrich: Iterable[str] | str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """
        Every item of a library listing, as the API returned it, in the API's order.

        Pages by offset (``limit``, ``include``, ``extend`` and ``l`` on every request, whatever
        ``next`` drops) until ``next`` is absent; short pages are not the end. Offsets shift when
        the library changes while paging, so each page after the first starts one position
        early and the overlap is checked, else the page is fetched again from further back.
        In a library listing an item is its id: an item present throughout comes exactly once.
        In a playlist's tracks and the play history an entry is its position: every entry
        comes, a song the playlist holds twice twice, in the service's order (the overlap is
        checked as a sequence). Arguments are checked at once, before any request.

        :param resource: a row of :data:`~airflow_provider_applemusic.api.resources.LISTING_RESOURCES`:
            ``library-albums``, ``library-songs``, ``library-artists``, ``library-playlists``,
            ``library-music-videos``, ``library-playlist-tracks``, ``recently-added``,
            ``recently-played-tracks`` (plays of catalog and library songs: ``types`` is always
            sent), ``heavy-rotation``.
        :param page_size: items per page; None: the resource's page maximum.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param extend: extended attributes to ask for besides the resource's own (``dateAdded``).
        :param language: the API's ``l`` (a language tag).
        :param pages_in_flight: pages fetched at once (1 to 64), never more than the hook's
            ``max_concurrency``.
        :param parent_id: the playlist's library id, for ``library-playlist-tracks``.
        :param enrich: ``catalog`` and/or ``ratings``: each item gains ``catalog`` and
            ``catalog_status``, or ``rating`` (see :meth:`enrich_pages`); ``catalog`` lists
            library albums and playlists with ``include=catalog``.
        """
        query = ListingQuery.checked(
            resource,
            page_size=page_size,
            include=include,
            extend=extend,
            language=language,
            parent_id=parent_id,
            enrich=enrich,
        )
        in_flight = validate_concurrency(pages_in_flight, param="pages_in_flight")
        return self.query_items(query, pages_in_flight=in_flight)

    def query_items(self, query: ListingQuery, *, pages_in_flight: int = 1) -> Iterator[dict[str, Any]]:
        """
        :meth:`iter_library` for a query its caller has checked already: every item, enriched
        as the query says, in the API's order.

        :param query: what every page asks for, and the enrichments.
        :param pages_in_flight: pages fetched at once (an integer from 1 to 64).
        """
        pages: Iterable[list[dict[str, Any]]] = self.query_pager(query, pages_in_flight=pages_in_flight)
        if query.enrich:
            pages = self.enrich_pages(pages, Enricher(query.enrich), language=query.params.get("l"))
        return itertools.chain.from_iterable(pages)

    def enrich_pages(
        self, pages: Iterable[list[dict[str, Any]]], enricher: Enricher, *, language: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """
        ``pages`` with each item enriched (:class:`~airflow_provider_applemusic.api.enrichment.Enricher`),
        in order; the look-ups (catalog in the user's storefront, asked once; ratings) go through
        this hook's transport while later pages are fetched.

        :param pages: lists of items, as a pager yields them.
        :param enricher: the batching state, built from checked enrichments.
        :param language: the API's ``l`` for the catalog look-ups.
        """
        if "catalog" in enricher.enrich:
            self.run(catalog_storefront_plan(None, self._storefronts))

        def send(lookup: Lookup) -> dict[str, Any]:
            return self.run(enrichment_plan(lookup, self._storefronts, language))

        yield from enrich_pages(pages, enricher, send, self.max_concurrency)

    def get_library_albums_page(
        self,
        offset: int = 0,
        *,
        page_size: int = MAX_PAGE_SIZE,
        include: Iterable[str] | str | None = None,
        language: str | None = None,
        extend: Iterable[str] | str | None = None,
    ) -> dict[str, Any]:
        """
        One page of the library albums: :meth:`get_library_page` for ``library-albums``.

        :param offset: the page's offset.
        :param page_size: albums per page, 1 to 100.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param language: the API's ``l``.
        :param extend: extended attributes besides ``dateAdded``.
        """
        _check_offset(offset)
        query = ListingQuery.checked(
            LIBRARY_ALBUMS,
            page_size=page_size,
            include=include,
            extend=extend,
            language=language,
            size_required=True,
        )
        return self.run(query.page(offset, self.log))

    def iter_library_albums(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        include: Iterable[str] | str | None = None,
        language: str | None = None,
        extend: Iterable[str] | str | None = None,
        enrich: Iterable[str] | str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """
        Every library album, with ``dateAdded``: :meth:`iter_library` for ``library-albums``.

        :param page_size: albums per page, 1 to 100.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param language: the API's ``l``.
        :param extend: extended attributes besides ``dateAdded``.
        :param enrich: ``catalog`` and/or ``ratings``, as :meth:`iter_library`.
        """
        query = ListingQuery.checked(
            LIBRARY_ALBUMS,
            page_size=page_size,
            include=include,
            extend=extend,
            language=language,
            enrich=enrich,
            size_required=True,
        )
        return self.query_items(query)

    # -- adding and checking presence -----------------------------------------------------

    def add_to_library(self, ids: Mapping[str, Iterable[str]], *, language: str | None = None) -> None:
        """
        Add catalog resources to the library (``POST /v1/me/library``), in batches; idempotent, so
        safe to retry.

        :param ids: ``{type: catalog ids}``, types ``albums``, ``songs``, ``playlists``,
            ``music-videos``.
        :param language: the API's ``l`` (a language tag).
        """
        normalized = normalize_ids(ids)
        validate_language(language)
        self.validate()
        self.run(add_to_library_plan(normalized, language))

    def find_in_library(
        self, ids: Mapping[str, Iterable[str]], *, storefront: str | None = None
    ) -> dict[str, dict[str, str | None]]:
        """
        Look catalog ids up with ``relate=library`` and return their library ids.

        :param ids: ``{type: catalog ids}``.
        :param storefront: the catalog's storefront; default the connection's, else the user's.
        :return: ``{type: {catalog_id: library_id or None}}``; ids the catalog does not know
            are absent.
        """
        normalized = normalize_ids(ids)
        validate_storefront(storefront)
        self.validate()
        return self.run(
            find_in_library_plan(normalized, storefront or self.settings.storefront, self._storefronts)
        )

    def get_ratings(self, kind: str, ids: Iterable[str] | str) -> dict[str, int]:
        """
        The user's ratings (``GET /v1/me/ratings/{kind}``), ids checked before any request and
        asked for in batches of at most 200.

        :param kind: ``albums``, ``songs``, ``playlists``, ``music-videos`` (catalog ids) or
            ``library-albums``, ``library-songs``, ``library-playlists``,
            ``library-music-videos`` (library ids); artists have no ratings.
        :param ids: the ids, a list or a comma-separated string (none: ``{}``, no request).
        :return: ``{id: 1 (love) or -1 (dislike)}`` for the rated ids only, in the order given.
        """
        kind = validate_rating_kind(kind)
        wanted = normalize_rating_ids(kind, ids)
        if not wanted:
            return {}
        self.validate()
        return self.run(ratings_plan(kind, wanted))

    def resolve_codes(
        self,
        isrcs: Iterable[str] | str = (),
        upcs: Iterable[str] | str = (),
        *,
        storefront: str | None = None,
    ) -> dict[str, dict[str, list[str]]]:
        """
        Catalog ids of songs by ISRC and of albums by UPC/EAN.

        Codes are normalised (case, dashes, spaces) and checked before any request, then looked
        up in batches of :data:`~airflow_provider_applemusic.api.codes.CODES_PER_REQUEST`. One ISRC
        may match several songs (single and album versions): all are returned, in the
        catalog's order.

        :param isrcs: ISRCs (2 letters, 3 letters or digits, 7 digits).
        :param upcs: UPCs (12 digits) or EANs (13 digits).
        :param storefront: the catalog's storefront; default the connection's, else the user's.
        :return: ``{"songs": {isrc: [catalog ids]}, "albums": {upc: [catalog ids]}}``; a code
            the catalog does not know maps to an empty list.
        """
        wanted = {"isrcs": normalize_codes(isrcs, "isrcs"), "upcs": normalize_codes(upcs, "upcs")}
        validate_storefront(storefront)
        resolved = self.resolve_code_resources(wanted, storefront=storefront)
        return {
            CODE_KINDS[param][0]: {code: [str(r["id"]) for r in found] for code, found in by_code.items()}
            for param, by_code in resolved.items()
        }

    def resolve_code_resources(
        self, wanted: Mapping[str, list[str]], *, storefront: str | None = None
    ) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """
        The catalog resources each normalised code matches: ``{"isrcs": {code: [resources]},
        "upcs": {...}}`` (what :meth:`resolve_codes` and the add operator's choice read).

        :param wanted: normalised codes, ``{"isrcs": [...], "upcs": [...]}``.
        :param storefront: storefront of the look-ups; None: :meth:`catalog_storefront`.
        """
        self.validate()
        return self.run(
            code_resources_plan(wanted, storefront or self.settings.storefront, self._storefronts)
        )

    def get_replay(self, *, language: str | None = None) -> dict[str, Any] | None:
        """
        The user's latest Replay year (``GET /v1/me/music-summaries?filter[year]=latest``,
        views ``top-songs``, ``top-albums``, ``top-artists`` with their items included): the
        summary resource (``attributes {period, year}``, ``views``), or None when no year is
        available yet. Rows of it: :func:`~airflow_provider_applemusic.api.replay.replay_rows`.

        :param language: the API's ``l`` (a language tag).
        """
        validate_language(language)
        self.validate()
        return self.run(replay_plan(language))

    # -- playlists -------------------------------------------------------------------------

    def get_library_playlist(self, playlist_id: str) -> dict[str, Any] | None:
        """
        One library playlist (``GET /v1/me/library/playlists/{id}``), or None when not found.

        :param playlist_id: a library playlist id (``p.``).
        """
        return self.run(library_playlist_plan(playlist_id))

    def create_library_playlist(
        self, name: str, *, description: str | None = None, tracks: Iterable[str] = ()
    ) -> dict[str, Any]:
        """
        Create a library playlist (``POST /v1/me/library/playlists``) holding ``tracks``.

        Not retried on 5xx, timeouts or dropped connections: the service may have created it
        all the same (``CreateLibraryPlaylistOperator`` is the safe way). It takes a while to
        appear in the listing.

        :param name: the playlist's name.
        :param description: its description.
        :param tracks: library song ids (``i.…``) and catalog song ids (digits), mixed, in
            order (repeats kept); each is sent typed by its id. Checked before any request.
        :return: the new playlist resource.
        """
        return self.run(create_playlist_plan(name, description, track_items(tracks)))

    def append_playlist_tracks(self, playlist_id: str, tracks: Iterable[str]) -> None:
        """
        Append songs to a library playlist the app created
        (``POST /v1/me/library/playlists/{id}/tracks``). Not retried on 5xx, timeouts or dropped
        connections: read the tracks back before sending again.

        :param playlist_id: the library playlist's id (``p.…``).
        :param tracks: library song ids (``i.…``) and catalog song ids (digits), mixed, in
            order (repeats kept); each is sent typed by its id. Checked before any request.
        """
        listing_resource("library-playlist-tracks").listing_path(playlist_id)
        songs = track_items(tracks)
        if not songs:
            raise AppleMusicConfigError("tracks holds no song ids: give at least one to append")
        self.run(append_tracks_plan(playlist_id, songs))

    def get_storefront(self) -> str:
        """Return the user's storefront id (``GET /v1/me/storefront``), e.g. ``us``."""
        return self.run(storefront_plan())

    def catalog_storefront(self, storefront: str | None = None) -> str:
        """
        The storefront of catalog look-ups: ``storefront``, else the connection's, else the
        user's (asked once per hook).

        :param storefront: a storefront to use as is, or None.
        """
        return self.run(catalog_storefront_plan(storefront or self.settings.storefront, self._storefronts))

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the two tokens one after the other and say how each fared.

        First ``GET /v1/storefronts/{storefront}`` with the developer token alone, then
        ``GET /v1/me/storefront`` with the Music User Token, then one library album (an account
        without a subscription is refused there). The text names no connection id
        (the UI's *Test* runs on a temporary one).
        """
        try:
            settings = self.settings
            self.validate()
        except AppleMusicConfigError as err:
            return False, f"connection settings: {err}"
        refused_hint = (
            "replace the pre-minted extra 'developer_token', or remove it so the hook mints one"
            if settings.developer_token
            else "check the Team ID, the Key ID and that the .p8 key is still active in your "
            "Apple Developer account"
        )
        try:
            self.transport.send(
                Request("GET", developer_token_probe_path(settings.storefront), user_token=False)
            )
        except AppleMusicDeveloperTokenError:
            return False, f"developer token refused (401): {refused_hint}"
        except AppleMusicError as err:
            return False, f"developer token could not be checked: {err}"
        if not settings.music_user_token:
            return False, "developer token accepted; no Music User Token: set extra 'music_user_token'"
        try:
            storefront = self.get_storefront()
        except AppleMusicUserTokenError as err:
            return False, (
                f"developer token accepted; Music User Token refused ({err.status}): mint a new one "
                "with MusicKit and update the connection's extra 'music_user_token'"
            )
        except AppleMusicDeveloperTokenError:
            return False, (
                "developer token accepted alone, but refused (401) with the Music User Token: "
                "either token may be at fault"
            )
        except AppleMusicError as err:
            return False, f"developer token accepted; GET /v1/me/storefront failed: {err}"
        try:
            self.get_library_albums_page(0, page_size=1)
        except AppleMusicSubscriptionError:
            return False, (
                "developer token accepted; Music User Token accepted, but the account may not use "
                "the library (Insufficient Privileges): it needs an Apple Music subscription with "
                "Sync Library (iCloud Music Library) on"
            )
        except AppleMusicError as err:
            return False, f"developer token accepted; Music User Token accepted; the library failed: {err}"
        return True, f"developer token accepted; Music User Token accepted; storefront '{storefront}'"


def _check_offset(offset: Any) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise AppleMusicConfigError(f"offset must be a non-negative integer, got {offset!r}")


from airflow_provider_applemusic.hooks.apple_music_async import AppleMusicAsyncHook  # noqa: E402  (re-exported)
