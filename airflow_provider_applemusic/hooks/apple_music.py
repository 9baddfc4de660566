"""
AppleMusicHook and AppleMusicAsyncHook: the ``apple_music`` connection, tokens, one transport
under the retry policy, and thin methods over the library listings, adding, presence and
ratings.
"""

from __future__ import annotations

import asyncio
import itertools
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_applemusic.async_clients import acquire_client, release_client
from airflow_provider_applemusic.catalog import library_ids_from_catalog, order_found, storefront_id
from airflow_provider_applemusic.codes import CODE_KINDS, code_lookups, matches_by_code, normalize_codes
from airflow_provider_applemusic.connection import (
    DEFAULT_CONN_ID,
    AppleMusicSettings,
    settings_from_connection,
)
from airflow_provider_applemusic.empty_listings import Fetch, arun_plan, first_page_plan, run_plan
from airflow_provider_applemusic.exceptions import (
    INCURABLE_ERRORS,
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicError,
    AppleMusicRateLimitError,
    AppleMusicRequestError,
    AppleMusicSubscriptionError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.http_policy import (
    AdaptiveConcurrency,
    AsyncAdaptiveConcurrency,
    BudgetStoreError,
    CallContext,
    RequestBudget,
    RetryPolicy,
    TransientError,
    TruncatedListingError,
    budget_store,
    connection_failure,
    developer_token_probe_path,
    either_token_401,
    evaluate_response,
    retrying_kwargs,
    user_token_refused_401,
)
from airflow_provider_applemusic.ids import add_batches, catalog_lookups, normalize_ids, track_items
from airflow_provider_applemusic.paging import ListingPager, listing_ends_before, listing_params
from airflow_provider_applemusic.ratings import (
    normalize_rating_ids,
    rating_requests,
    ratings_from_body,
    validate_rating_kind,
)
from airflow_provider_applemusic.resources import ListingResource, listing_resource
from airflow_provider_applemusic.tokens import DeveloperTokenMinter, get_minter, mask
from airflow_provider_applemusic.validation import (
    MAX_PAGE_SIZE,
    join_extend,
    join_include,
    validate_concurrency,
    validate_language,
    validate_page_size,
    validate_storefront,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    import httpx
    import requests

LIBRARY_ALBUMS = "library-albums"
#: extended attributes every library-albums request asks for (without it no album has a date)
ALBUMS_EXTEND = listing_resource(LIBRARY_ALBUMS).extended


class _Attempts:
    """
    What every attempt of one request needs, the same for the sync and async hooks: the auth
    headers, and the response's evaluation with one re-mint after a 401.
    """

    def __init__(
        self,
        settings: AppleMusicSettings,
        minter: DeveloperTokenMinter | None,
        method: str,
        path: str,
        *,
        user_token: bool,
        expect_json: bool,
        expect_data: bool,
        listing_offset: int | None = None,
    ) -> None:
        self.settings = settings
        self.minter = minter
        self.method = method
        self.path = path
        self.user_token = settings.require_user_token() if user_token else None
        self.expect_json = expect_json
        self.expect_data = expect_data
        self.listing_offset = listing_offset
        self.reminted = False

    def prepare(self) -> tuple[str, dict[str, str]]:
        """The developer token to send, and the request's auth headers."""
        token = self.minter.token() if self.minter is not None else self.settings.developer_token
        if not token:
            raise AppleMusicConfigError(
                f"connection '{self.settings.conn_id}' has neither a key to mint developer tokens "
                "nor extra 'developer_token'"
            )
        headers = {"Authorization": f"Bearer {token}"}
        if self.user_token:
            headers["Music-User-Token"] = self.user_token
        return token, headers

    def evaluate(self, token: str, status: int, headers: Mapping[str, str], body: bytes) -> Any:
        """:func:`evaluate_response`; a refused token is forgotten so the next attempt re-mints."""
        ctx = CallContext(
            self.method,
            self.path,
            self.settings.conn_id,
            can_remint=self.minter is not None and not self.reminted,
            pre_minted=self.minter is None,
        )
        try:
            return evaluate_response(
                ctx,
                status,
                headers,
                body,
                expect_json=self.expect_json,
                expect_data=self.expect_data,
                listing_offset=self.listing_offset,
            )
        except TransientError as err:
            if err.remint and self.minter is not None:
                self.reminted = True
                self.minter.invalidate(token)
            raise


def _retry_logger(
    note_retry: Callable[[], None], log: Callable[..., None]
) -> Callable[[TransientError, float], None]:
    def on_retry(err: TransientError, sleep: float) -> None:
        note_retry()
        log("Retrying in %.2f s: %s", sleep, err.reason)

    return on_retry


def playlist_path(playlist_id: str) -> str:
    """The path of one library playlist (the id checked)."""
    listing_resource("library-playlist-tracks").listing_path(playlist_id)
    return f"{listing_resource('library-playlists').path}/{playlist_id}"


def first_resource(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first resource of a fetch's ``data``, or None."""
    data = body.get("data") or []
    return dict(data[0]) if data else None


def _unless_idempotent(err: TransientError, idempotent: bool) -> AppleMusicError:
    """A transient failure of a write that may have been applied is final: read back, not resend."""
    if idempotent or err.remint or isinstance(err.final, AppleMusicRateLimitError):
        return err
    return err.final


class _AppleMusicHookBase(BaseHook):
    """
    What the sync and async hooks share: the constructor, the connection and its checked
    settings, the retry policy, and which token a 401 was about.
    """

    conn_name_attr = "apple_music_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "apple_music"
    hook_name = "Apple Music"
    #: requests in flight at most, when the constructor is not told
    default_max_concurrency = 8

    def __init__(
        self,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout_seconds: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        super().__init__()
        self.apple_music_conn_id = apple_music_conn_id
        self.max_concurrency = validate_concurrency(
            self.default_max_concurrency if max_concurrency is None else max_concurrency
        )
        self._overrides = {
            "timeout_seconds": timeout_seconds,
            "max_attempts": max_attempts,
            "max_retry_seconds": max_retry_seconds,
        }

    def _load(self, conn: Any) -> tuple[AppleMusicSettings, DeveloperTokenMinter | None]:
        """Check the connection, mask its secrets, and find the token minter for its key."""
        settings = settings_from_connection(conn, self._overrides)
        mask(settings.music_user_token)
        mask(settings.developer_token)
        mask(settings.budget_store)
        if settings.developer_token:
            return settings, None
        if not (settings.team_id and settings.key_id and settings.private_key_pem):
            raise AppleMusicConfigError(
                f"connection '{settings.conn_id}' needs Team ID, Key ID and key, or extra 'developer_token'"
            )
        minter = get_minter(
            settings.team_id, settings.key_id, settings.private_key_pem, settings.token_lifetime_seconds
        )
        return settings, minter

    @staticmethod
    def _budget(settings: AppleMusicSettings) -> RequestBudget | None:
        """
        The connection's request budget (extras ``requests_per_second``, ``budget_store``), named
        by its Apple Developer team: every key of one team shares it, like the service's limit.
        """
        if settings.requests_per_second is None:
            return None
        store = budget_store(settings.budget_store)
        return RequestBudget(settings.requests_per_second, settings.budget_key, store)

    @staticmethod
    def _retry_policy(settings: AppleMusicSettings) -> RetryPolicy:
        return RetryPolicy(max_attempts=settings.max_attempts, max_retry_seconds=settings.max_retry_seconds)

    @staticmethod
    def _attribute_401(
        refused: AppleMusicDeveloperTokenError,
        probe_failure: AppleMusicError | None,
        method: str,
        path: str,
        settings: AppleMusicSettings,
    ) -> AppleMusicError:
        """
        Which token a 401 that survived a re-mint was about, from a request carrying the
        developer token alone (``probe_failure`` None: it succeeded).
        """
        if probe_failure is None:
            probe = developer_token_probe_path(settings.storefront)
            return user_token_refused_401(method, path, settings.conn_id, probe)
        if isinstance(probe_failure, AppleMusicDeveloperTokenError):
            return refused
        return either_token_401(refused, probe_failure)


class AppleMusicHook(_AppleMusicHookBase):
    """
    Talk to the Apple Music API with an ``apple_music`` connection.

    Mints ES256 developer tokens from the connection's Team ID, Key ID and ``.p8`` key (cached,
    renewed before expiry and after a 401), sends the Music User Token, and runs every request
    through one retry policy (429, 5xx and connection errors, exponential backoff with full
    jitter, ``Retry-After`` honoured) and one adaptive limit on requests in flight. Every
    library listing is paged by one engine (:class:`~airflow_provider_applemusic.paging.ListingPager`).

    :param apple_music_conn_id: the connection to use.
    :param timeout_seconds: per-request timeout; wins over the connection's extra.
    :param max_attempts: attempts per request; wins over the connection's extra.
    :param max_retry_seconds: total seconds one request may spend retrying; wins over the extra.
    :param max_concurrency: the most requests of this hook in flight at once (1 to 64, default 8).
    """

    _user_storefront: str | None = None

    @cached_property
    def concurrency(self) -> AdaptiveConcurrency:
        """The adaptive limit every request of this hook passes."""
        return AdaptiveConcurrency(self.max_concurrency)

    # -- configuration -------------------------------------------------------------------

    @cached_property
    def _loaded(self) -> tuple[AppleMusicSettings, DeveloperTokenMinter | None]:
        return self._load(self.get_connection(self.apple_music_conn_id))

    @property
    def settings(self) -> AppleMusicSettings:
        """The connection, validated (raises :class:`AppleMusicConfigError` naming the field)."""
        return self._loaded[0]

    @property
    def _minter(self) -> DeveloperTokenMinter | None:
        return self._loaded[1]

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy built from the connection and the constructor's overrides."""
        return self._retry_policy(self.settings)

    @cached_property
    def budget(self) -> RequestBudget | None:
        """The request budget every attempt waits for (None: the connection sets none)."""
        return self._budget(self.settings)

    @cached_property
    def session(self) -> requests.Session:
        """A pooled session (proxy and CA-bundle environment variables are honoured)."""
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["Accept"] = "application/json"
        return session

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
        from tenacity import Retrying

        settings = self.settings
        attempts = _Attempts(
            settings,
            self._minter,
            method,
            path,
            user_token=user_token,
            expect_json=expect_json,
            expect_data=expect_data,
            listing_offset=listing_offset,
        )
        url = settings.base_url + path
        budget = self.budget

        def attempt() -> Any:
            import requests

            token, headers = attempts.prepare()
            with self.concurrency.slot() as slot:
                if budget is not None:
                    try:
                        budget.acquire()
                    except BudgetStoreError as err:  # the store may come back: try again
                        raise TransientError(err) from None
                try:
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        headers=headers,
                        timeout=settings.timeout_seconds,
                    )
                    body = response.content
                except requests.RequestException as err:
                    raise _unless_idempotent(connection_failure(method, path, err), idempotent) from None
                slot.status = response.status_code
            try:
                return attempts.evaluate(token, response.status_code, response.headers, body)
            except TransientError as err:
                raise _unless_idempotent(err, idempotent) from None

        on_retry = _retry_logger(self.concurrency.note_retry, self.log.warning)
        try:
            return Retrying(**retrying_kwargs(self.retry_policy, on_retry))(attempt)
        except AppleMusicDeveloperTokenError as refused:
            if not user_token:
                raise
            try:
                self.request("GET", developer_token_probe_path(settings.storefront), user_token=False)
            except AppleMusicError as failure:
                raise self._attribute_401(refused, failure, method, path, settings) from None
            raise self._attribute_401(refused, None, method, path, settings) from None

    # -- library listings ----------------------------------------------------------------

    def _listing(
        self,
        row: ListingResource,
        page_size: int | None,
        include: Iterable[str] | str | None,
        extend: Iterable[str] | str | None,
        language: str | None,
        parent_id: str | None,
    ) -> tuple[str, dict[str, str]]:
        """The checked path and parameters (all but ``offset``) of a listing's pages."""
        size = row.page_max if page_size is None else validate_page_size(page_size, maximum=row.page_max)
        validate_language(language)
        path = row.listing_path(parent_id)
        params = listing_params(
            size, join_include(include), join_extend(extend, required=row.extended), language
        )
        params.update(row.query)
        return path, params

    def _fetch(self, fetch: Fetch) -> dict[str, Any] | None:
        """One GET of a first-page plan (None: a 404 the plan takes)."""
        try:
            body: dict[str, Any] = self.request(
                "GET", fetch.path, fetch.params, expect_data=True, listing_offset=fetch.listing_offset
            )
        except AppleMusicRequestError as err:
            if fetch.missing_ok and err.status == 404:
                return None
            raise
        return body

    def _first_page(
        self, row: ListingResource, parent_id: str | None, params: Mapping[str, str]
    ) -> dict[str, Any]:
        """A listing's first page, a 404 there read by :mod:`~airflow_provider_applemusic.empty_listings`."""
        rest = {key: value for key, value in params.items() if key != "offset"}
        return run_plan(first_page_plan(row, parent_id, rest), self._fetch)

    def _page(
        self, row: ListingResource, parent_id: str | None, path: str, params: Mapping[str, str]
    ) -> dict[str, Any]:
        """One listing page, with the empty, truncation and shrinking rules."""
        offset = int(params.get("offset", "0"))
        if offset == 0:
            return self._first_page(row, parent_id, params)
        try:
            body: dict[str, Any] = self.request("GET", path, params, expect_data=True, listing_offset=offset)
        except TruncatedListingError as truncated:
            first = self._first_page(row, parent_id, params)
            if listing_ends_before(first, offset):
                self.log.warning(
                    "The page at offset %d of %s stayed missing and the listing now ends before it "
                    "(the library shrank while it was paged): ending there",
                    offset,
                    path,
                )
                return {"data": [], "meta": first.get("meta") or {}}
            raise AppleMusicRequestError(
                f"Apple Music GET {path}: the page at offset {offset} stayed missing (truncated) "
                f"within the retry budget, though the listing goes on past it: {truncated}",
                status=truncated.status,
                path=path,
            ) from None
        return body

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

        :param resource: a row of :data:`~airflow_provider_applemusic.resources.LISTING_RESOURCES`,
            e.g. ``library-songs``.
        :param offset: index of the first item of the page.
        :param page_size: items per page; None: the resource's page maximum.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param extend: extended attributes to ask for besides the resource's own.
        :param language: the API's ``l`` (a language tag).
        :param parent_id: the playlist's library id, for ``library-playlist-tracks``.
        :return: the page body: ``data``, ``next`` (when more follow) and ``meta``.
        """
        row = listing_resource(resource)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise AppleMusicConfigError(f"offset must be a non-negative integer, got {offset!r}")
        path, params = self._listing(row, page_size, include, extend, language, parent_id)
        return self._page(row, parent_id, path, {**params, "offset": str(offset)})

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
        """
        row = listing_resource(resource)
        path, params = self._listing(row, page_size, include, extend, language, parent_id)
        in_flight = min(validate_concurrency(pages_in_flight, param="pages_in_flight"), self.max_concurrency)
        return ListingPager(
            lambda offset: self._page(row, parent_id, path, {**params, "offset": str(offset)}),
            page_size=int(params["limit"]),
            pages_in_flight=in_flight,
            identity=row.identity,
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

        :param resource: a row of :data:`~airflow_provider_applemusic.resources.LISTING_RESOURCES`:
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
        """
        pager = self.library_pager(
            resource,
            page_size=page_size,
            include=include,
            extend=extend,
            language=language,
            pages_in_flight=pages_in_flight,
            parent_id=parent_id,
        )
        return itertools.chain.from_iterable(pager)

    def get_library_albums_page(
        self,
        offset: int = 0,
        *,
        page_size: int = MAX_PAGE_SIZE,
        include: Iterable[str] | str | None = None,
        language: str | None = None,
        extend: Iterable[str] | str | None = None,
    ) -> dict[str, Any]:
        """One page of the library albums: :meth:`get_library_page` for ``library-albums``."""
        validate_page_size(page_size)
        return self.get_library_page(
            LIBRARY_ALBUMS, offset, page_size=page_size, include=include, extend=extend, language=language
        )

    def iter_library_albums(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        include: Iterable[str] | str | None = None,
        language: str | None = None,
        extend: Iterable[str] | str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every library album, with ``dateAdded``: :meth:`iter_library` for ``library-albums``."""
        validate_page_size(page_size)
        return self.iter_library(
            LIBRARY_ALBUMS, page_size=page_size, include=include, extend=extend, language=language
        )

    # -- adding and checking presence -----------------------------------------------------

    def add_to_library(self, ids: Mapping[str, Iterable[str]], *, language: str | None = None) -> None:
        """
        Add catalog resources to the user's library (``POST /v1/me/library``).

        Validates and de-duplicates before any request, then sends batches of at most 100 ids
        per type with short URLs. Apple answers 202 and ignores ids it cannot add; the call is
        safe to retry.

        :param ids: ``{type: catalog ids}``, types ``albums``, ``songs``, ``playlists``,
            ``music-videos``.
        :param language: the API's ``l`` (a language tag).
        """
        normalized = normalize_ids(ids)
        validate_language(language)
        self.validate()
        for batch in add_batches(normalized):
            params = {f"ids[{kind}]": ",".join(values) for kind, values in batch.items()}
            if language:
                params["l"] = language
            self.request("POST", "/v1/me/library", params, expect_json=False)

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
        front = self.catalog_storefront(storefront)
        found: dict[str, dict[str, str | None]] = {kind: {} for kind in normalized}
        for kind, path, params in catalog_lookups(normalized, front):
            found[kind].update(library_ids_from_catalog(self.request("GET", path, params, expect_data=True)))
        return order_found(normalized, found)

    def get_ratings(self, kind: str, ids: Iterable[str] | str) -> dict[str, int]:
        """
        The user's ratings (``GET /v1/me/ratings/{kind}``), ids checked before any request and
        asked for in batches of at most 200.

        :param kind: ``albums``, ``songs``, ``playlists``, ``music-videos`` (catalog ids) or
            ``library-albums``, ``library-songs``, ``library-playlists``,
            ``library-music-videos`` (library ids).
        :param ids: the ids, a list or a comma-separated string (none: ``{}``, no request).
        :return: ``{id: 1 (love) or -1 (dislike)}`` for the rated ids only, in the order given.
        """
        kind = validate_rating_kind(kind)
        wanted = normalize_rating_ids(kind, ids)
        if not wanted:
            return {}
        self.validate()
        found: dict[str, int] = {}
        for path, params in rating_requests(kind, wanted):
            body = self.request("GET", path, params, expect_data=True)
            found.update(ratings_from_body(body, params["ids"].split(",")))
        return {item_id: found[item_id] for item_id in wanted if item_id in found}

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
        up in batches of :data:`~airflow_provider_applemusic.codes.CODES_PER_REQUEST`. One ISRC
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
        """
        self.validate()
        front = self.catalog_storefront(storefront) if any(wanted.values()) else ""
        resolved: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for param, codes in wanted.items():
            by_code: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
            for path, params in code_lookups(param, codes, front):
                body = self.request("GET", path, params, expect_data=True)
                for code, found in matches_by_code(body, param).items():
                    if code in by_code:
                        by_code[code] += found
            resolved[param] = by_code
        return resolved

    # -- playlists -------------------------------------------------------------------------

    def get_library_playlist(self, playlist_id: str) -> dict[str, Any] | None:
        """One library playlist (``GET /v1/me/library/playlists/{id}``), or None when not found."""
        try:
            return first_resource(self.request("GET", playlist_path(playlist_id), expect_data=True))
        except AppleMusicRequestError as err:
            if err.status == 404:
                return None
            raise

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
        songs = track_items(tracks)
        attributes: dict[str, Any] = {"name": name}
        if description:
            attributes["description"] = description
        body: dict[str, Any] = {"attributes": attributes}
        if songs:
            body["relationships"] = {"tracks": {"data": songs}}
        answer = self.request(
            "POST", "/v1/me/library/playlists", json_body=body, expect_data=True, idempotent=False
        )
        return dict(answer["data"][0])

    def append_playlist_tracks(self, playlist_id: str, tracks: Iterable[str]) -> None:
        """
        Append songs to a library playlist the app created
        (``POST /v1/me/library/playlists/{id}/tracks``). Not retried on 5xx, timeouts or dropped
        connections: read the tracks back before sending again.

        :param playlist_id: the library playlist's id (``p.…``).
        :param tracks: library song ids (``i.…``) and catalog song ids (digits), mixed, in
            order (repeats kept); each is sent typed by its id. Checked before any request.
        """
        path = listing_resource("library-playlist-tracks").listing_path(playlist_id)
        songs = track_items(tracks)
        if not songs:
            raise AppleMusicConfigError("tracks holds no song ids: give at least one to append")
        body = {"data": songs}
        self.request("POST", path, json_body=body, expect_json=False, idempotent=False)

    def get_storefront(self) -> str:
        """Return the user's storefront id (``GET /v1/me/storefront``), e.g. ``us``."""
        return storefront_id(self.request("GET", "/v1/me/storefront", expect_data=True))

    def catalog_storefront(self, storefront: str | None = None) -> str:
        """
        The storefront of catalog look-ups: ``storefront``, else the connection's, else the
        user's (asked once per hook).
        """
        if storefront or self.settings.storefront:
            return str(storefront or self.settings.storefront)
        if self._user_storefront is None:
            self._user_storefront = self.get_storefront()
        return self._user_storefront

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
            self.request("GET", developer_token_probe_path(settings.storefront), user_token=False)
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


class AppleMusicAsyncHook(_AppleMusicHookBase):
    """
    The asyncio twin of :class:`AppleMusicHook`, for triggers: ``httpx.AsyncClient``, the same
    constructor arguments (``max_concurrency`` defaults to 4), connection settings, token
    minting, retry policy, error mapping and adaptive limit.

    Every hook of an event loop borrows one client per API host
    (:mod:`~airflow_provider_applemusic.async_clients`, at most 16 connections): the pool
    bounds connections across hooks, each hook's adaptive limit bounds its own requests in
    flight. Nothing here blocks the event loop: the connection is read with
    ``aget_connection`` and validated in a worker thread; waits are ``asyncio.sleep``. Give
    the client back with :meth:`aclose` (it closes only when no other hook holds it).
    """

    hook_name = "Apple Music (async)"
    default_max_concurrency = 4
    _settings: AppleMusicSettings | None = None
    _minter: DeveloperTokenMinter | None = None
    _client: httpx.AsyncClient | None = None
    _user_storefront: str | None = None

    @cached_property
    def concurrency(self) -> AsyncAdaptiveConcurrency:
        """The adaptive limit every request of this hook passes."""
        return AsyncAdaptiveConcurrency(self.max_concurrency)

    async def get_settings(self) -> AppleMusicSettings:
        """The connection, validated (in a worker thread: it may read the key file)."""
        if self._settings is None:
            conn = await self.aget_connection(self.apple_music_conn_id)
            settings, self._minter = await asyncio.to_thread(self._load, conn)
            self._settings = settings
            return settings
        return self._settings

    async def _client_for(self, settings: AppleMusicSettings) -> httpx.AsyncClient:
        if self._client is None:
            self._client = await acquire_client(settings.base_url)
        return self._client

    async def aclose(self) -> None:
        """Give the shared HTTP client back (safe to call more than once); other hooks keep it."""
        client, self._client = self._client, None
        if client is not None:
            await release_client(client)

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        user_token: bool = True,
        expect_json: bool = True,
        expect_data: bool = False,
        listing_offset: int | None = None,
    ) -> Any:
        """Send one API request under the retry policy; see :meth:`AppleMusicHook.request`."""
        import httpx
        from tenacity import AsyncRetrying

        settings = await self.get_settings()
        attempts = _Attempts(
            settings,
            self._minter,
            method,
            path,
            user_token=user_token,
            expect_json=expect_json,
            expect_data=expect_data,
            listing_offset=listing_offset,
        )
        client = await self._client_for(settings)
        policy = self._retry_policy(settings)
        # waiting for one of the shared pool's connections is not a failure of the request
        timeout = httpx.Timeout(settings.timeout_seconds, pool=None)
        budget = self._budget(settings)

        async def attempt() -> Any:
            token, headers = attempts.prepare()
            async with self.concurrency.slot() as slot:
                if budget is not None:
                    try:
                        await budget.acquire_async()
                    except BudgetStoreError as err:  # the store may come back: try again
                        raise TransientError(err) from None
                try:
                    response = await client.request(
                        method, path, params=params, headers=headers, timeout=timeout
                    )
                    body = response.content
                except httpx.HTTPError as err:
                    raise connection_failure(method, path, err) from None
                slot.status = response.status_code
            return attempts.evaluate(token, response.status_code, response.headers, body)

        on_retry = _retry_logger(self.concurrency.note_retry, self.log.info)
        try:
            return await AsyncRetrying(**retrying_kwargs(policy, on_retry))(attempt)
        except AppleMusicDeveloperTokenError as refused:
            if not user_token:
                raise
            try:
                await self.request("GET", developer_token_probe_path(settings.storefront), user_token=False)
            except AppleMusicError as failure:
                raise self._attribute_401(refused, failure, method, path, settings) from None
            raise self._attribute_401(refused, None, method, path, settings) from None

    async def _fetch(self, fetch: Fetch) -> dict[str, Any] | None:
        """One GET of a first-page plan (None: a 404 the plan takes)."""
        try:
            body: dict[str, Any] = await self.request(
                "GET", fetch.path, fetch.params, expect_data=True, listing_offset=fetch.listing_offset
            )
        except AppleMusicRequestError as err:
            if fetch.missing_ok and err.status == 404:
                return None
            raise
        return body

    async def get_first_page(
        self, resource: str, *, page_size: int = 1, parent_id: str | None = None
    ) -> dict[str, Any]:
        """
        The first page of a library listing, asked with ``limit`` alone (what a watcher's poll
        reads), a 404 there read as :meth:`AppleMusicHook.get_library_page` reads it: an empty
        listing, a playlist's tracks from the playlist, or
        :class:`~airflow_provider_applemusic.exceptions.AppleMusicListingUnavailableError`.

        :param resource: a row of :data:`~airflow_provider_applemusic.resources.LISTING_RESOURCES`.
        :param page_size: items on the page (1 to the resource's page maximum).
        :param parent_id: the playlist's library id, for ``library-playlist-tracks``.
        """
        row = listing_resource(resource)
        validate_page_size(page_size, maximum=row.page_max)
        plan = first_page_plan(row, parent_id, {"limit": str(page_size)})
        return await arun_plan(plan, self._fetch)

    async def get_library_playlist(self, playlist_id: str) -> dict[str, Any] | None:
        """Async :meth:`AppleMusicHook.get_library_playlist`: the playlist, or None when not found."""
        try:
            return first_resource(await self.request("GET", playlist_path(playlist_id), expect_data=True))
        except AppleMusicRequestError as err:
            if err.status == 404:
                return None
            raise

    async def get_storefront(self) -> str:
        """Return the user's storefront id, e.g. ``us``."""
        return storefront_id(await self.request("GET", "/v1/me/storefront", expect_data=True))

    async def catalog_storefront(self, storefront: str | None = None) -> str:
        """
        Async :meth:`AppleMusicHook.catalog_storefront`: ``storefront``, else the connection's,
        else the user's (asked once per hook).
        """
        settings = await self.get_settings()
        if storefront or settings.storefront:
            return str(storefront or settings.storefront)
        if self._user_storefront is None:
            self._user_storefront = await self.get_storefront()
        return self._user_storefront

    async def find_in_library(
        self, ids: Mapping[str, Iterable[str]], *, storefront: str | None = None
    ) -> dict[str, dict[str, str | None]]:
        """
        Async :meth:`AppleMusicHook.find_in_library`: ``{type: {catalog_id: library_id}}``.

        The batches (at most 100 ids each) go out together, under the hook's adaptive limit;
        when some fail, an error waiting cannot cure (a refused token) is raised first.
        """
        normalized = normalize_ids(ids)
        validate_storefront(storefront)
        front = await self.catalog_storefront(storefront)
        lookups = catalog_lookups(normalized, front)
        bodies = await asyncio.gather(
            *(self.request("GET", path, params, expect_data=True) for _, path, params in lookups),
            return_exceptions=True,
        )
        found: dict[str, dict[str, str | None]] = {kind: {} for kind in normalized}
        errors: list[BaseException] = []
        for (kind, _, _), body in zip(lookups, bodies, strict=True):
            if isinstance(body, BaseException):
                errors.append(body)
            else:
                found[kind].update(library_ids_from_catalog(body))
        if errors:
            raise next((err for err in errors if isinstance(err, INCURABLE_ERRORS)), errors[0])
        return order_found(normalized, found)
