"""AppleMusicHook: the ``apple_music`` connection, developer and user tokens, and resilient HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from airflow.sdk import BaseHook

from airflow_provider_applemusic.connection import (
    DEFAULT_CONN_ID,
    AppleMusicSettings,
    settings_from_connection,
)
from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicError,
    AppleMusicRequestError,
    AppleMusicSubscriptionError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.http_policy import (
    AdaptiveConcurrency,
    AsyncAdaptiveConcurrency,
    CallContext,
    RetryPolicy,
    TransientError,
    TruncatedListingError,
    connection_failure,
    developer_token_probe_path,
    either_token_401,
    evaluate_response,
    retrying_kwargs,
    user_token_refused_401,
)
from airflow_provider_applemusic.ids import add_batches, catalog_lookups, normalize_ids
from airflow_provider_applemusic.paging import PAGING_OVERLAP, PageStitcher, next_offset
from airflow_provider_applemusic.tokens import DeveloperTokenMinter, get_minter, mask
from airflow_provider_applemusic.validation import (
    MAX_PAGE_SIZE,
    join_extend,
    join_include,
    merge_csv,
    validate_language,
    validate_page_size,
    validate_storefront,
)

if TYPE_CHECKING:
    import ssl

    import httpx
    import requests

LIBRARY_ALBUMS_PATH = "/v1/me/library/albums"
#: extended attributes every library-albums request asks for (without it no album has a date)
ALBUMS_EXTEND = ("dateAdded",)


def library_albums_params(
    offset: int, page_size: int, include: str | None, language: str | None, extend: str | None = None
) -> dict[str, str]:
    """Query parameters of one library-albums page."""
    params = {"limit": str(page_size), "offset": str(offset)}
    if include:
        params["include"] = include
    if extend:
        params["extend"] = extend
    if language:
        params["l"] = language
    return params


def next_page_request(
    next_path: str,
    page_size: int,
    include: str | None,
    language: str | None,
    extend: str | None = None,
) -> tuple[str, dict[str, str]]:
    """
    Path and parameters for the service's ``next`` link, repaired.

    ``next`` carries ``offset`` but drops ``limit`` (the page size would fall to 25), and may
    drop ``include``, ``extend`` and ``l``: re-apply them (``extend`` values it lacks are added).
    """
    parts = urlsplit(next_path)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params["limit"] = str(page_size)
    if include and "include" not in params:
        params["include"] = include
    merged = merge_csv(params.get("extend"), extend)
    if merged:
        params["extend"] = merged
    if language and "l" not in params:
        params["l"] = language
    return parts.path, params


def listing_ends_before(first_page: Mapping[str, Any], offset: int) -> bool:
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
        assert token is not None
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


def storefront_id(body: Mapping[str, Any]) -> str:
    """The storefront id in a ``GET /v1/me/storefront`` body."""
    try:
        return str(body["data"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise AppleMusicRequestError(
            "Apple Music GET /v1/me/storefront answered without a storefront id",
            path="/v1/me/storefront",
        ) from None


class _AppleMusicHookBase(BaseHook):
    """The connection and its checked settings, shared by the sync and async hooks."""

    conn_name_attr = "apple_music_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "apple_music"
    hook_name = "Apple Music"

    def __init__(
        self,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout_seconds: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.apple_music_conn_id = apple_music_conn_id
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
        if settings.developer_token:
            return settings, None
        assert settings.team_id and settings.key_id and settings.private_key_pem
        minter = get_minter(
            settings.team_id, settings.key_id, settings.private_key_pem, settings.token_lifetime_seconds
        )
        return settings, minter

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
    jitter, ``Retry-After`` honoured) and one adaptive limit on requests in flight.

    :param apple_music_conn_id: the connection to use.
    :param timeout_seconds: per-request timeout; wins over the connection's extra.
    :param max_attempts: attempts per request; wins over the connection's extra.
    :param max_retry_seconds: total seconds one request may spend retrying; wins over the extra.
    :param max_concurrency: the most requests of this hook in flight at once.
    """

    def __init__(
        self,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout_seconds: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
        max_concurrency: int = 8,
    ) -> None:
        super().__init__(
            apple_music_conn_id,
            timeout_seconds=timeout_seconds,
            max_attempts=max_attempts,
            max_retry_seconds=max_retry_seconds,
        )
        if (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or not (1 <= max_concurrency <= 64)
        ):
            raise AppleMusicConfigError(
                f"max_concurrency must be an integer from 1 to 64, got {max_concurrency!r}"
            )
        self.concurrency = AdaptiveConcurrency(max_concurrency)

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
        if minter is None:
            assert self.settings.developer_token
            return self.settings.developer_token
        return minter.token()

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

        def attempt() -> Any:
            import requests

            token, headers = attempts.prepare()
            with self.concurrency.slot() as slot:
                try:
                    response = self.session.request(
                        method, url, params=params, headers=headers, timeout=settings.timeout_seconds
                    )
                    body = response.content
                except requests.RequestException as err:
                    raise connection_failure(method, path, err) from None
                slot.status = response.status_code
            return attempts.evaluate(token, response.status_code, response.headers, body)

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

    # -- library albums ------------------------------------------------------------------

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
        Fetch one page of the user's library albums, as the API returned it.

        An empty library (404 at offset 0) gives ``{"data": [], "meta": {"total": 0}}``. A page
        past offset 0 that comes back missing (404) or without ``data`` is fetched again under
        the retry policy; if it stays missing, the first page is read again: when the library
        now ends before ``offset`` (it shrank), the page is empty and has no ``next``, else
        :class:`AppleMusicRequestError` names the offset.

        :param offset: index of the first album of the page.
        :param page_size: albums per page, 1 to 100.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param language: the API's ``l`` (a language tag).
        :param extend: extended attributes to add to ``dateAdded``, which is always asked for.
        :return: the page body: ``data``, ``next`` (when more follow) and ``meta``.
        """
        validate_page_size(page_size)
        validate_language(language)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise AppleMusicConfigError(f"offset must be a non-negative integer, got {offset!r}")
        params = library_albums_params(
            offset, page_size, join_include(include), language, join_extend(extend, required=ALBUMS_EXTEND)
        )
        return self._page(LIBRARY_ALBUMS_PATH, params)

    def _page(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """One listing page, with the empty, truncation and shrinking rules."""
        offset = int(params.get("offset", "0"))
        try:
            body: dict[str, Any] = self.request("GET", path, params, expect_data=True, listing_offset=offset)
        except TruncatedListingError as truncated:
            first = self.request("GET", path, {**params, "offset": "0"}, expect_data=True, listing_offset=0)
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

    def iter_library_albums(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        include: Iterable[str] | str | None = None,
        language: str | None = None,
        extend: Iterable[str] | str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """
        Yield every library album, as the API returned it, in the API's order.

        Follows ``next`` until it is absent (short pages are not the end), re-applying
        ``limit``, ``include``, ``extend`` and ``l`` that ``next`` drops. Every request asks for
        ``extend=dateAdded``. An empty library (404) yields nothing. Offsets shift when the library
        changes while paging, so each page after the first starts one position early: the album
        seen last must come back, else the page is fetched again from further back. Ids already
        yielded are skipped. An album present throughout is yielded exactly once.

        :param page_size: albums per page, 1 to 100.
        :param include: relationships to include, e.g. ``["catalog"]``.
        :param language: the API's ``l`` (a language tag).
        :param extend: extended attributes to add to ``dateAdded``.
        """
        validate_page_size(page_size)
        validate_language(language)
        joined = join_include(include)
        extended = join_extend(extend, required=ALBUMS_EXTEND)
        path = LIBRARY_ALBUMS_PATH
        params = library_albums_params(0, page_size, joined, language, extended)
        stitcher = PageStitcher(page_size)
        next_offsets: set[int] = set()

        def refetch(offset: int) -> dict[str, Any]:
            self.log.info(
                "The album seen last is not where expected (the library changed, or entries are "
                "hidden): fetching again from offset %s",
                offset,
            )
            return self._page(path, {**params, "offset": str(offset)})

        while True:
            page = self._page(path, params)
            page, offset, albums = stitcher.stitch(page, int(params.get("offset", "0")), refetch)
            yield from albums
            following = next_offset(page)
            if following is None:
                return
            if following in next_offsets or following <= offset:
                raise AppleMusicRequestError(
                    f"Apple Music GET {LIBRARY_ALBUMS_PATH} pointed 'next' back at offset "
                    f"{following}, already fetched; stopping instead of looping",
                    path=path,
                )
            next_offsets.add(following)
            path, params = next_page_request(str(page["next"]), page_size, joined, language, extended)
            params["offset"] = str(max(0, following - PAGING_OVERLAP))

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
        front = storefront or self.settings.storefront or self.get_storefront()
        found: dict[str, dict[str, str | None]] = {kind: {} for kind in normalized}
        for kind, path, params in catalog_lookups(normalized, front):
            found[kind].update(library_ids_from_catalog(self.request("GET", path, params, expect_data=True)))
        return order_found(normalized, found)

    def get_storefront(self) -> str:
        """Return the user's storefront id (``GET /v1/me/storefront``), e.g. ``us``."""
        return storefront_id(self.request("GET", "/v1/me/storefront", expect_data=True))

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


def order_found(
    wanted: Mapping[str, list[str]], found: Mapping[str, Mapping[str, str | None]]
) -> dict[str, dict[str, str | None]]:
    """``found`` restricted to ``wanted`` ids, in their order; unknown ids left out."""
    return {
        kind: {cid: found[kind][cid] for cid in values if cid in found.get(kind, {})}
        for kind, values in wanted.items()
    }


def library_ids_from_catalog(body: Mapping[str, Any]) -> dict[str, str | None]:
    """``{catalog_id: library_id or None}`` from a catalog response fetched with relate=library."""
    found: dict[str, str | None] = {}
    for resource in body.get("data") or []:
        if not isinstance(resource, Mapping) or "id" not in resource:
            continue
        library = ((resource.get("relationships") or {}).get("library") or {}).get("data") or []
        found[str(resource["id"])] = str(library[0]["id"]) if library else None
    return found


_SSL_CONTEXT: ssl.SSLContext | None = None
_SSL_LOCK = threading.Lock()


def _build_ssl_context() -> ssl.SSLContext:
    global _SSL_CONTEXT
    with _SSL_LOCK:
        if _SSL_CONTEXT is None:
            import httpx

            _SSL_CONTEXT = httpx.create_ssl_context(trust_env=True)
        return _SSL_CONTEXT


async def shared_ssl_context() -> ssl.SSLContext:
    """
    One TLS context for every async client of the process, built once in a worker thread.

    Loading the CA bundle takes about 20 ms of CPU: once per trigger it would stall the
    triggerer's event loop. ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured.
    """
    if _SSL_CONTEXT is not None:
        return _SSL_CONTEXT
    return await asyncio.to_thread(_build_ssl_context)


class AppleMusicAsyncHook(_AppleMusicHookBase):
    """
    The asyncio twin of :class:`AppleMusicHook`, for triggers: ``httpx.AsyncClient``, the same
    connection settings, token minting, retry policy, error mapping and adaptive limit.

    Nothing here blocks the event loop: the connection is read with ``aget_connection`` and
    validated in a worker thread; waits are ``asyncio.sleep``. Close it with :meth:`aclose`.

    :param apple_music_conn_id: the connection to use.
    :param timeout_seconds: per-request timeout; wins over the connection's extra.
    :param max_attempts: attempts per request; wins over the connection's extra.
    :param max_retry_seconds: total seconds one request may spend retrying; wins over the extra.
    """

    hook_name = "Apple Music (async)"

    def __init__(
        self,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout_seconds: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
    ) -> None:
        super().__init__(
            apple_music_conn_id,
            timeout_seconds=timeout_seconds,
            max_attempts=max_attempts,
            max_retry_seconds=max_retry_seconds,
        )
        self.concurrency = AsyncAdaptiveConcurrency(4)
        self._settings: AppleMusicSettings | None = None
        self._minter: DeveloperTokenMinter | None = None
        self._client: httpx.AsyncClient | None = None

    async def get_settings(self) -> AppleMusicSettings:
        """The connection, validated (in a worker thread: it may read the key file)."""
        if self._settings is None:
            conn = await self.aget_connection(self.apple_music_conn_id)
            settings, self._minter = await asyncio.to_thread(self._load, conn)
            self._settings = settings
            return settings
        return self._settings

    async def _client_for(self, settings: AppleMusicSettings) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=settings.base_url,
                timeout=settings.timeout_seconds,
                headers={"Accept": "application/json"},
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
                verify=await shared_ssl_context(),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client (safe to call more than once)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

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

        async def attempt() -> Any:
            token, headers = attempts.prepare()
            async with self.concurrency.slot() as slot:
                try:
                    response = await client.request(method, path, params=params, headers=headers)
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

    async def get_storefront(self) -> str:
        """Return the user's storefront id, e.g. ``us``."""
        return storefront_id(await self.request("GET", "/v1/me/storefront", expect_data=True))

    async def find_in_library(
        self, ids: Mapping[str, Iterable[str]], *, storefront: str | None = None
    ) -> dict[str, dict[str, str | None]]:
        """Async :meth:`AppleMusicHook.find_in_library`: ``{type: {catalog_id: library_id}}``."""
        normalized = normalize_ids(ids)
        validate_storefront(storefront)
        settings = await self.get_settings()
        front = storefront or settings.storefront or await self.get_storefront()
        found: dict[str, dict[str, str | None]] = {kind: {} for kind in normalized}
        for kind, path, params in catalog_lookups(normalized, front):
            body = await self.request("GET", path, params, expect_data=True)
            found[kind].update(library_ids_from_catalog(body))
        return order_found(normalized, found)
