"""
The one way a request reaches the service: :class:`Transport`, built once from a connection, with
a sync :meth:`~Transport.send` (``requests``) and an async :meth:`~Transport.asend` (``httpx``)
over the same policy objects: auth headers and one re-mint after a 401, the request budget, the
adaptive limit, the response's evaluation, retries and their log lines, and which token a 401
that survived the re-mint was about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicError,
    AppleMusicRateLimitError,
)
from airflow_provider_applemusic.transport.budget import BudgetStoreError, RequestBudget, budget_store
from airflow_provider_applemusic.transport.clients import acquire_client, release_client
from airflow_provider_applemusic.transport.concurrency import AdaptiveConcurrency, AsyncAdaptiveConcurrency
from airflow_provider_applemusic.transport.errors import (
    CallContext,
    NotFound,
    connection_failure,
    developer_token_probe_path,
    either_token_401,
    evaluate_response,
    user_token_refused_401,
)
from airflow_provider_applemusic.transport.retries import RetryPolicy, TransientError, retrying_kwargs

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx
    import requests

    from airflow_provider_applemusic.transport.connection import AppleMusicSettings
    from airflow_provider_applemusic.transport.tokens import DeveloperTokenMinter


@dataclass(frozen=True)
class Request:
    """
    One API request, as a hook operation (a plan) asks for it.

    :param method: HTTP method.
    :param path: path below the host, e.g. ``/v1/me/storefront``.
    :param params: query parameters.
    :param user_token: send the Music User Token.
    :param expect_json: decode the body (False for 202/204 answers without one).
    :param expect_data: the body must carry a ``data`` list; one that does not is retried.
    :param not_found: what a 404 means (:data:`~airflow_provider_applemusic.transport.errors.NotFound`).
    :param offset: a listing page's offset, for the messages of a truncation.
    :param json_body: a JSON request body (writes).
    :param idempotent: False for a write that must not be sent twice blindly: a 5xx, a timeout
        or a dropped connection may have been applied, so it is raised at once for the caller
        to read back; 429s and a 401's re-mint (never applied) are still retried.
    """

    method: str
    path: str
    params: Mapping[str, str] | None = None
    user_token: bool = True
    expect_json: bool = True
    expect_data: bool = False
    not_found: NotFound = "raise"
    offset: int | None = None
    json_body: Any = None
    idempotent: bool = True


class _Call:
    """One request's attempts: their auth headers, and the evaluation with one re-mint after a 401."""

    def __init__(self, transport: Transport, request: Request) -> None:
        self.transport = transport
        self.request = request
        settings = transport.settings
        self.user_token = settings.require_user_token() if request.user_token else None
        self.reminted = False

    def prepare(self) -> tuple[str, dict[str, str]]:
        """The developer token to send, and the request's auth headers."""
        transport = self.transport
        minter = transport.minter
        token = minter.token() if minter is not None else transport.settings.developer_token
        if not token:
            raise AppleMusicConfigError(
                f"connection '{transport.settings.conn_id}' has neither a key to mint developer "
                "tokens nor extra 'developer_token'"
            )
        headers = {"Authorization": f"Bearer {token}"}
        if self.user_token:
            headers["Music-User-Token"] = self.user_token
        return token, headers

    def evaluate(self, token: str, status: int, headers: Mapping[str, str], body: bytes) -> Any:
        """The response's result; a refused token is forgotten so the next attempt re-mints."""
        request, minter = self.request, self.transport.minter
        ctx = CallContext(
            request.method,
            request.path,
            self.transport.settings.conn_id,
            can_remint=minter is not None and not self.reminted,
            pre_minted=minter is None,
        )
        try:
            return evaluate_response(
                ctx,
                status,
                headers,
                body,
                expect_json=request.expect_json,
                expect_data=request.expect_data,
                not_found=request.not_found,
                offset=request.offset,
            )
        except TransientError as err:
            if err.remint and minter is not None:
                self.reminted = True
                minter.invalidate(token)
            raise self.unless_idempotent(err) from None

    def no_response(self, err: BaseException) -> AppleMusicError:
        """A connection error or timeout: retried, unless the request is a write."""
        return self.unless_idempotent(connection_failure(self.request.method, self.request.path, err))

    def unless_idempotent(self, err: TransientError) -> AppleMusicError:
        """A transient failure of a write that may have been applied is final: read back, not resend."""
        if self.request.idempotent or err.remint or isinstance(err.final, AppleMusicRateLimitError):
            return err
        return err.final

    def probe(self) -> Request:
        """The request that carries the developer token alone: tells which token a 401 was about."""
        return Request(
            "GET", developer_token_probe_path(self.transport.settings.storefront), user_token=False
        )

    def attribute_401(
        self, refused: AppleMusicDeveloperTokenError, probe_failure: AppleMusicError | None
    ) -> AppleMusicError:
        """Which token a 401 that survived a re-mint was about (``probe_failure`` None: the probe passed)."""
        settings, request = self.transport.settings, self.request
        if probe_failure is None:
            probe = developer_token_probe_path(settings.storefront)
            return user_token_refused_401(request.method, request.path, settings.conn_id, probe)
        if isinstance(probe_failure, AppleMusicDeveloperTokenError):
            return refused
        return either_token_401(refused, probe_failure)


class Transport:
    """
    Sends requests to the Apple Music API for one connection, under one set of policies.

    :param settings: the connection, checked.
    :param minter: mints developer tokens from the connection's key (None: a pre-minted token).
    :param max_concurrency: the most requests in flight at once (the adaptive limit's ceiling).
    :param log: where retries are logged (at ``warning``, by both sends).
    """

    def __init__(
        self,
        settings: AppleMusicSettings,
        minter: DeveloperTokenMinter | None,
        *,
        max_concurrency: int,
        log: logging.Logger | Any | None = None,
    ) -> None:
        self.settings = settings
        self.minter = minter
        self.max_concurrency = max_concurrency
        self.log = log if log is not None else logging.getLogger(__name__)
        self.retry_policy = RetryPolicy(
            max_attempts=settings.max_attempts, max_retry_seconds=settings.max_retry_seconds
        )
        self.budget = (
            RequestBudget(
                settings.requests_per_second, settings.budget_key, budget_store(settings.budget_store)
            )
            if settings.requests_per_second is not None
            else None
        )
        self._client: httpx.AsyncClient | None = None

    # -- the policy objects of each side --------------------------------------------------

    @cached_property
    def concurrency(self) -> AdaptiveConcurrency:
        """The adaptive limit every sync send passes."""
        return AdaptiveConcurrency(self.max_concurrency)

    @cached_property
    def async_concurrency(self) -> AsyncAdaptiveConcurrency:
        """The adaptive limit every async send passes."""
        return AsyncAdaptiveConcurrency(self.max_concurrency)

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

    async def client(self) -> httpx.AsyncClient:
        """The event loop's shared client for the API host (borrowed until :meth:`aclose`)."""
        if self._client is None:
            self._client = await acquire_client(self.settings.base_url)
        return self._client

    async def aclose(self) -> None:
        """Give the shared client back (safe to call more than once); other hooks keep it."""
        client, self._client = self._client, None
        if client is not None:
            await release_client(client)

    def _on_retry(self, note_retry: Any) -> Any:
        def on_retry(err: TransientError, sleep: float) -> None:
            note_retry()
            self.log.warning("Retrying in %.2f s: %s", sleep, err.reason)

        return on_retry

    # -- the two sends ---------------------------------------------------------------------

    def send(self, request: Request) -> Any:
        """Send ``request`` under the retry policy and return its decoded JSON body (sync)."""
        import requests
        from tenacity import Retrying

        call, settings = _Call(self, request), self.settings
        url = settings.base_url + request.path

        def attempt() -> Any:
            token, headers = call.prepare()
            with self.concurrency.slot() as slot:
                if self.budget is not None:
                    try:
                        self.budget.acquire()
                    except BudgetStoreError as err:  # the store may come back: try again
                        raise TransientError(err) from None
                try:
                    response = self.session.request(
                        request.method,
                        url,
                        params=request.params,
                        json=request.json_body,
                        headers=headers,
                        timeout=settings.timeout_seconds,
                    )
                    body = response.content
                except requests.RequestException as err:
                    raise call.no_response(err) from None
                slot.status = response.status_code
            return call.evaluate(token, response.status_code, response.headers, body)

        try:
            return Retrying(
                **retrying_kwargs(self.retry_policy, self._on_retry(self.concurrency.note_retry))
            )(attempt)
        except AppleMusicDeveloperTokenError as refused:
            if not request.user_token:
                raise
            try:
                self.send(call.probe())
            except AppleMusicError as failure:
                raise call.attribute_401(refused, failure) from None
            raise call.attribute_401(refused, None) from None

    async def asend(self, request: Request) -> Any:
        """Send ``request`` under the retry policy and return its decoded JSON body (async)."""
        import httpx
        from tenacity import AsyncRetrying

        call, settings = _Call(self, request), self.settings
        client = await self.client()
        # waiting for one of the shared pool's connections is not a failure of the request
        timeout = httpx.Timeout(settings.timeout_seconds, pool=None)
        concurrency = self.async_concurrency

        async def attempt() -> Any:
            token, headers = call.prepare()
            async with concurrency.slot() as slot:
                if self.budget is not None:
                    try:
                        await self.budget.acquire_async()
                    except BudgetStoreError as err:  # the store may come back: try again
                        raise TransientError(err) from None
                try:
                    response = await client.request(
                        request.method,
                        request.path,
                        params=request.params,
                        json=request.json_body,
                        headers=headers,
                        timeout=timeout,
                    )
                    body = response.content
                except httpx.HTTPError as err:
                    raise call.no_response(err) from None
                slot.status = response.status_code
            return call.evaluate(token, response.status_code, response.headers, body)

        try:
            return await AsyncRetrying(
                **retrying_kwargs(self.retry_policy, self._on_retry(concurrency.note_retry))
            )(attempt)
        except AppleMusicDeveloperTokenError as refused:
            if not request.user_token:
                raise
            try:
                await self.asend(call.probe())
            except AppleMusicError as failure:
                raise call.attribute_401(refused, failure) from None
            raise call.attribute_401(refused, None) from None


def with_offset(request: Request, offset: int) -> Request:
    """The same listing request at another offset."""
    return replace(request, params={**(request.params or {}), "offset": str(offset)}, offset=offset)
