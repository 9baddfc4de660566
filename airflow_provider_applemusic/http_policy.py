"""
The one place that decides retries, backoff, error mapping, concurrency and the request budget
of a developer key for Apple Music calls.

The synchronous hook (``requests``) and the asynchronous trigger (``httpx``) both send a request,
hand the status, headers and body to :func:`evaluate_response`, and run their attempts under
:func:`retrying_kwargs` (tenacity's ``Retrying`` / ``AsyncRetrying``). Nothing here logs or
formats a header, a token or a key.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import html
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicError,
    AppleMusicRateLimitError,
    AppleMusicRequestError,
    AppleMusicSubscriptionError,
    AppleMusicUserTokenError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tenacity import RetryCallState

_E = TypeVar("_E", bound=AppleMusicRequestError)

#: statuses that are worth another attempt (besides 429 and connection errors)
RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 20.0
#: after this long without a 429, the pace grows by PACE_GROWTH per success
PACE_CALM_SECONDS = 1.0
PACE_GROWTH = 1.05
#: a pace above this many requests a second is lifted altogether
PACE_RELEASE_RATE = 1000.0
#: Apple's code and title for an account that may not use the library (no subscription)
INSUFFICIENT_PRIVILEGES = ("40015", "Insufficient Privileges")
#: the query parameter of the language tag (the provider's ``language``)
LANGUAGE_PARAMETER = "l"


@dataclass(frozen=True)
class RetryPolicy:
    """
    How long and how often one request may be tried.

    :param max_attempts: attempts per request, the first one included.
    :param max_retry_seconds: total seconds one request may spend retrying; a wait that would
        end past it is not started.
    :param base_seconds: first backoff ceiling; doubles each attempt (full jitter).
    :param cap_seconds: largest backoff ceiling.
    """

    max_attempts: int = 8
    max_retry_seconds: float = 300.0
    base_seconds: float = BACKOFF_BASE_SECONDS
    cap_seconds: float = BACKOFF_CAP_SECONDS

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff before attempt ``attempt + 1``."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        return random.uniform(0, ceiling)


class TransientError(AppleMusicError):
    """
    An attempt failed in a way another attempt may cure.

    :param final: the error to raise when no attempt is left.
    :param retry_after: seconds the service asked us to wait, if it said so.
    :param remint: the developer token was refused: mint a new one before the next attempt.
    :param reason: what this attempt got, for the retry log line (default: ``final``'s text,
        which may speak of the whole budget).
    """

    def __init__(
        self,
        final: AppleMusicError,
        *,
        retry_after: float | None = None,
        remint: bool = False,
        reason: str | None = None,
    ) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after
        self.remint = remint
        self.reason = reason or str(final)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


#: an HTML error page's title (gateways answer 5xx with such pages, not JSON)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
#: the longest title taken from an HTML error page
HTML_TITLE_MAX = 80


def html_title(body: bytes) -> str | None:
    """The short title of an HTML error page (``504 Gateway Timeout``), never the page itself."""
    match = _HTML_TITLE.search(body[:4096])
    if match is None:
        return None
    text = " ".join(html.unescape(match.group(1).decode("utf-8", "replace")).split())
    return text[:HTML_TITLE_MAX] or None


def apple_error_fields(body: bytes) -> dict[str, str | None]:
    """
    ``title``, ``detail``, ``code`` and the ``source.parameter`` of Apple's first error; of an
    HTML error page, its title only.
    """
    fields: dict[str, str | None] = {"title": None, "detail": None, "code": None, "parameter": None}
    try:
        errors = json.loads(body)["errors"]
        first = errors[0]
    except (ValueError, KeyError, IndexError, TypeError):
        fields["title"] = html_title(body)
        return fields
    if not isinstance(first, Mapping):
        return fields
    for name in ("title", "detail", "code"):
        if first.get(name) is not None:
            fields[name] = str(first[name])
    source = first.get("source")
    if isinstance(source, Mapping) and source.get("parameter"):
        fields["parameter"] = str(source["parameter"])
    return fields


def _describe(status: int | None, fields: Mapping[str, str | None]) -> str:
    parts = [str(status) if status is not None else "no response"]
    title = fields.get("title")
    if title:
        # an HTML page's title often starts with the status already ("504 Gateway Timeout")
        parts = [title] if status is not None and title.startswith(f"{status} ") else [*parts, title]
    text = " ".join(parts)
    if fields.get("detail"):
        text += f": {fields['detail']}"
    extras = []
    if fields.get("code"):
        extras.append(f"code {fields['code']}")
    if fields.get("parameter"):
        extras.append(f"parameter {fields['parameter']}")
    if extras:
        text += f" ({', '.join(extras)})"
    return text


def request_error(
    method: str,
    path: str,
    status: int | None,
    body: bytes,
    *,
    cls: type[_E] = AppleMusicRequestError,  # type: ignore[assignment]
    hint: str = "",
) -> _E:
    """Build the exception for a failed request from Apple's error body."""
    fields = apple_error_fields(body)
    message = f"Apple Music {method} {path} failed with {_describe(status, fields)}"
    if hint:
        message += f"; {hint}"
    error = cls(
        message,
        status=status,
        code=fields["code"],
        title=fields["title"],
        detail=fields["detail"],
        path=path,
    )
    return error


def connection_failure(method: str, path: str, err: BaseException) -> TransientError:
    """A connection error or timeout: no response came; retryable."""
    final = AppleMusicRequestError(
        f"Apple Music {method} {path} got no response ({type(err).__name__})", path=path
    )
    return TransientError(final)


class TruncatedListingError(AppleMusicRequestError):
    """
    A listing page past offset 0 came back missing (404) or without ``data`` after ``next``
    promised more, again and again within the retry budget.

    :param offset: the offset of the page.
    """

    def __init__(self, message: str, *, offset: int, status: int | None, path: str) -> None:
        super().__init__(message, status=status, path=path)
        self.offset = offset


class EmptyListing(dict[str, Any]):
    """
    The body standing for a listing's 404 at offset 0: an empty collection, unless the rules
    of :mod:`~airflow_provider_applemusic.empty_listings` find the account hides the listing.
    """


def empty_listing() -> dict[str, Any]:
    """The body of an empty collection (the service answers it with 404 at offset 0)."""
    return EmptyListing(data=[], meta={"total": 0})


def is_empty_listing(body: object) -> bool:
    """True for the body :func:`evaluate_response` gives for a listing's 404 at offset 0."""
    return isinstance(body, EmptyListing)


def _truncated(method: str, path: str, status: int, offset: int, what: str) -> TransientError:
    return TransientError(
        TruncatedListingError(
            f"Apple Music {method} {path} answered the page at offset {offset} with {what}, "
            "again and again within the retry budget, though the listing goes on past it",
            offset=offset,
            status=status,
            path=path,
        ),
        reason=f"Apple Music {method} {path} answered the page at offset {offset} with {what}",
    )


def _is_insufficient_privileges(status: int, body: bytes) -> bool:
    if status not in (400, 403):
        return False
    code, title = INSUFFICIENT_PRIVILEGES
    fields = apple_error_fields(body)
    return fields["code"] == code or (fields["title"] or "").strip() == title


def subscription_error(method: str, path: str, status: int, body: bytes) -> AppleMusicSubscriptionError:
    """The error for "Insufficient Privileges": the account lacks a subscription or Sync Library."""
    return request_error(
        method,
        path,
        status,
        body,
        cls=AppleMusicSubscriptionError,
        hint="the Apple Music account may not use the library: it needs an active Apple Music "
        "subscription with Sync Library (iCloud Music Library) turned on",
    )


def developer_token_probe_path(storefront: str | None) -> str:
    """A request that needs the developer token only: tells which token a 401 was about."""
    return f"/v1/storefronts/{storefront or 'us'}"


def user_token_refused_401(method: str, path: str, conn_id: str, probe_path: str) -> AppleMusicUserTokenError:
    """A 401 on a user request while the developer token alone was accepted on ``probe_path``."""
    return AppleMusicUserTokenError(
        f"the Music User Token was refused (401) on {method} {path}: the developer token is "
        f"valid (GET {probe_path} with it alone succeeded), so the user token is invalid, "
        "expired or revoked; mint a new one with MusicKit and update extra 'music_user_token' "
        f"of connection '{conn_id}'",
        status=401,
    )


def either_token_401(
    refused: AppleMusicDeveloperTokenError, probe_failure: AppleMusicError
) -> AppleMusicDeveloperTokenError:
    """A 401 that the developer-token-only check could not attribute (it failed otherwise)."""
    return AppleMusicDeveloperTokenError(
        f"{refused}; the check with the developer token alone failed too ({probe_failure}), so "
        "either token may be at fault: the developer token, or the Music User Token",
        status=401,
    )


@dataclass(frozen=True)
class CallContext:
    """What :func:`evaluate_response` needs to know about the call besides the response."""

    method: str
    path: str
    conn_id: str
    can_remint: bool
    pre_minted: bool = False


def evaluate_response(
    ctx: CallContext,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    expect_json: bool = True,
    expect_data: bool = False,
    listing_offset: int | None = None,
) -> Any:
    """
    Map one response to a result or an exception, the same for sync and async callers.

    Returns the decoded JSON body (None when ``expect_json`` is false). Raises
    :class:`TransientError` for what another attempt may cure (429, 5xx listed in
    ``RETRYABLE_SERVER_STATUSES``, a 2xx body that is not JSON or, with ``expect_data``, lacks
    the ``data`` list, a 401 when a new token can be minted) and an :class:`AppleMusicError` for
    everything else.

    ``listing_offset`` marks a page of a library listing: a 404 at offset 0 is an empty
    collection (returns :func:`empty_listing`); a 404 or a body without ``data`` past offset 0
    is a truncation, retried, and in the end a :class:`TruncatedListingError`.
    """
    method, path = ctx.method, ctx.path
    if status == 404 and listing_offset is not None:
        if listing_offset == 0:
            return empty_listing()
        raise _truncated(method, path, status, listing_offset, "404")
    if 200 <= status < 300:
        if not expect_json:
            return None
        try:
            decoded = json.loads(body)
        except ValueError:
            raise TransientError(
                AppleMusicRequestError(
                    f"Apple Music {method} {path} answered {status} with a body that is not "
                    "valid JSON (truncated or corrupted)",
                    status=status,
                    path=path,
                )
            ) from None
        if not isinstance(decoded, dict):
            raise TransientError(
                AppleMusicRequestError(
                    f"Apple Music {method} {path} answered {status} with JSON that is not an object",
                    status=status,
                    path=path,
                )
            )
        if expect_data and not isinstance(decoded.get("data"), list):
            if listing_offset:
                raise _truncated(method, path, status, listing_offset, "a body without 'data'")
            raise TransientError(
                AppleMusicRequestError(
                    f"Apple Music {method} {path} answered {status} without a 'data' list, again and again",
                    status=status,
                    path=path,
                ),
                reason=f"Apple Music {method} {path} answered {status} without a 'data' list",
            )
        return decoded
    if _is_insufficient_privileges(status, body):
        raise subscription_error(method, path, status, body)
    if status == 401:
        if ctx.pre_minted:
            raise AppleMusicDeveloperTokenError(
                f"the pre-minted developer token in extra 'developer_token' of connection "
                f"'{ctx.conn_id}' was refused (401) on {method} {path}: it cannot be re-minted; "
                "replace it, or remove it so the hook mints its own from Team ID, Key ID and key",
                status=401,
            )
        refused = AppleMusicDeveloperTokenError(
            f"the developer token was refused (401) on {method} {path} even after minting a "
            f"fresh one: check the Team ID, the Key ID and that the .p8 key of connection "
            f"'{ctx.conn_id}' is still active in your Apple Developer account",
            status=401,
        )
        if ctx.can_remint:
            raise TransientError(
                refused,
                retry_after=0.0,
                remint=True,
                reason=f"Apple Music {method} {path} refused the developer token (401): minting a fresh one",
            )
        raise refused
    if status == 403:
        fields = apple_error_fields(body)
        said = f" ({_describe(status, fields)})" if fields["title"] else ""
        raise AppleMusicUserTokenError(
            f"the Music User Token was refused (403) on {method} {path}{said}: it is invalid, "
            "expired or revoked, or the user withdrew access; mint a new one with MusicKit and "
            f"update extra 'music_user_token' of connection '{ctx.conn_id}'",
            status=403,
        )
    if status == 429:
        final = request_error(
            method,
            path,
            status,
            body,
            cls=AppleMusicRateLimitError,
            hint="the rate limit did not clear within the retry budget: lower the concurrency, "
            "or raise max_attempts / max_retry_seconds",
        )
        raise TransientError(
            final,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            reason=f"Apple Music {method} {path} answered {_describe(status, apple_error_fields(body))}",
        )
    if status in RETRYABLE_SERVER_STATUSES:
        final = request_error(
            method,
            path,
            status,
            body,
            hint="the service kept failing within the retry budget; try again later",
        )
        raise TransientError(
            final,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            reason=f"Apple Music {method} {path} answered {_describe(status, apple_error_fields(body))}",
        )
    if status == 400 and apple_error_fields(body)["parameter"] == LANGUAGE_PARAMETER:
        raise AppleMusicConfigError(
            f"language was refused by the service on {method} {path} "
            f"({_describe(status, apple_error_fields(body))}): it must be a language tag the "
            "service reads, such as 'en-US' or 'fr'"
        )
    raise request_error(method, path, status, body)


def retrying_kwargs(
    policy: RetryPolicy, on_retry: Callable[[TransientError, float], None] | None = None
) -> dict[str, Any]:
    """
    Keyword arguments for tenacity's ``Retrying`` and ``AsyncRetrying`` implementing ``policy``.

    Attempts stop after ``max_attempts``, or before a wait that would end past
    ``max_retry_seconds``; ``Retry-After`` wins over the jittered backoff. When no attempt is
    left, the last :class:`TransientError`'s ``final`` error is raised.
    """
    from tenacity import (
        retry_if_exception_type,
        stop_after_attempt,
        stop_before_delay,
    )

    def failure(state: RetryCallState) -> BaseException | None:
        return state.outcome.exception() if state.outcome is not None else None

    def wait(state: RetryCallState) -> float:
        err = failure(state)
        if isinstance(err, TransientError) and err.retry_after is not None:
            return err.retry_after
        return policy.backoff(state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        err = failure(state)
        if on_retry is not None and isinstance(err, TransientError):
            on_retry(err, state.upcoming_sleep)

    def give_up(state: RetryCallState) -> Any:
        err = failure(state)
        if isinstance(err, TransientError):
            raise err.final
        if err is not None:
            raise err
        return state.outcome.result() if state.outcome is not None else None

    return {
        "stop": stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_retry_seconds),
        "wait": wait,
        "retry": retry_if_exception_type(TransientError),
        "before_sleep": before_sleep,
        "retry_error_callback": give_up,
    }


@dataclass
class ConcurrencyStats:
    """Counters of an :class:`AdaptiveConcurrency`, readable while it runs."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class _Aimd:
    """
    Additive-increase, multiplicative-decrease limits on requests: how many in flight, and how
    many started a second.

    A 429 halves the in-flight limit and, when some requests succeeded in the last second, sets a
    pace of 95% of them (what the service just accepted). Each success adds back a little of both: the pace
    grows by one request a second per second, and by 5% per success once a second has passed
    without a 429 (the limit may have cleared), until it is lifted. Only a 429 of a request
    started after the last decrease decreases again, so one burst of refusals counts once.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(self.ceiling)
        self.rate: float | None = None
        self.stats = ConcurrencyStats()
        self._next_start = 0.0
        self._last_decrease = float("-inf")
        self._successes: collections.deque[float] = collections.deque()

    def allowed(self) -> int:
        return max(1, min(self.ceiling, int(self.limit)))

    def wait_needed(self, now: float) -> float | None:
        """None when no place is free; else seconds to wait for the pace (0: start now)."""
        if self.stats.in_flight >= self.allowed():
            return None
        if self.rate is None:
            return 0.0
        return max(0.0, self._next_start - now)

    def start(self, now: float) -> None:
        self.stats.in_flight += 1
        self.stats.requests += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        if self.rate is not None:
            self._next_start = max(self._next_start, now) + 1.0 / self.rate

    def finish(self, status: int | None, started: float, now: float) -> None:
        self.stats.in_flight -= 1
        if status is not None:
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
        while self._successes and self._successes[0] < now - 1.0:
            self._successes.popleft()
        if status == 429:
            self.stats.throttled += 1
            if started >= self._last_decrease:
                self._last_decrease = now
                self.limit = max(1.0, self.limit / 2)
                if self._successes:
                    self.rate = max(1.0, 0.95 * len(self._successes))
        elif status is not None and status < 400:
            self._successes.append(now)
            self.limit = min(float(self.ceiling), self.limit + 1.0 / max(1.0, self.limit))
            if self.rate is not None:
                calm = now - self._last_decrease > PACE_CALM_SECONDS
                self.rate = self.rate * PACE_GROWTH if calm else self.rate + 1.0 / self.rate
                if self.rate > PACE_RELEASE_RATE:
                    self.rate = None


class Slot:
    """One request in flight; tell it the status the request got (None: no response)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.status: int | None = None


class AdaptiveConcurrency:
    """
    A thread-safe limit on requests in flight that 429s halve and successes grow back.

    Every request of a hook passes through :meth:`slot`, so concurrent callers (the exporter's
    threads) slow down together and speed up together, never above ``ceiling``.

    :param ceiling: the most requests in flight at once.
    """

    def __init__(self, ceiling: int = 8) -> None:
        self._aimd = _Aimd(ceiling)
        self._cond = threading.Condition()

    @property
    def stats(self) -> ConcurrencyStats:
        return self._aimd.stats

    @property
    def current_limit(self) -> int:
        """How many requests may be in flight right now."""
        return self._aimd.allowed()

    @property
    def current_rate(self) -> float | None:
        """Requests a second allowed to start, once a 429 has set a pace; else None."""
        return self._aimd.rate

    @property
    def ceiling(self) -> int:
        return self._aimd.ceiling

    def note_retry(self) -> None:
        with self._cond:
            self._aimd.stats.retries += 1

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Wait for room, then hold one place for the duration of a request."""
        with self._cond:
            while True:
                now = time.monotonic()
                wait = self._aimd.wait_needed(now)
                if wait == 0.0:
                    break
                self._cond.wait(timeout=wait)
            self._aimd.start(now)
        held = Slot(now)
        try:
            yield held
        finally:
            with self._cond:
                self._aimd.finish(held.status, held.started, time.monotonic())
                self._cond.notify_all()


class AsyncAdaptiveConcurrency:
    """The asyncio twin of :class:`AdaptiveConcurrency`, for triggers; same limit rules."""

    def __init__(self, ceiling: int = 8) -> None:
        self._aimd = _Aimd(ceiling)
        self._cond: asyncio.Condition | None = None

    @property
    def stats(self) -> ConcurrencyStats:
        return self._aimd.stats

    def note_retry(self) -> None:
        self._aimd.stats.retries += 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for room, then hold one place for the duration of a request."""
        if self._cond is None:
            self._cond = asyncio.Condition()
        async with self._cond:
            while True:
                now = time.monotonic()
                wait = self._aimd.wait_needed(now)
                if wait == 0.0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), timeout=wait)
            self._aimd.start(now)
        held = Slot(now)
        try:
            yield held
        finally:
            async with self._cond:
                self._aimd.finish(held.status, held.started, time.monotonic())
                self._cond.notify_all()


# -- the request budget of a developer key ------------------------------------------------------

#: reserves the next start of a request on one key, atomically, on Redis's clock: the
#: theoretical arrival time (GCRA) moves on by one interval a request; returns the wait (a string:
#: Redis turns Lua numbers into integers)
_REDIS_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < t then tat = t end
local ttl = math.ceil((tat + interval - t) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', tat + interval), 'PX', ttl)
return string.format('%.6f', tat - t)
"""


class BudgetStoreError(AppleMusicError):
    """The shared budget's store could not be reached (the URL is never in the message)."""


class LocalBudgetStore:
    """Reservations in this process's memory, shared by every hook and thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, key: str, interval: float) -> float:
        """Take the next start on ``key``; return the seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            start = max(self._next.get(key, 0.0), now)
            self._next[key] = start + interval
            return start - now


class RedisBudgetStore:
    """
    Reservations in Redis, shared by every process (workers, triggerer, machines) that uses the
    same store and key; atomic by a Lua script on Redis's clock.

    :param url: ``redis://``, ``rediss://`` or ``unix://`` URL (needs the ``redis`` package).
    """

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise BudgetStoreError(
                "a shared request budget (extra 'budget_store') needs the redis package: "
                "pip install 'airflow-provider-applemusic[redis]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._client.register_script(_REDIS_RESERVE)

    def reserve(self, key: str, interval: float) -> float:
        """Take the next start on ``key``; return the seconds to wait for it."""
        try:
            return max(0.0, float(self._script(keys=[key], args=[f"{interval:.6f}"])))
        except self._errors as err:
            raise BudgetStoreError(
                f"the shared request budget's store (extra 'budget_store') failed: {type(err).__name__}"
            ) from None


_LOCAL_STORE = LocalBudgetStore()
_REDIS_STORES: dict[str, RedisBudgetStore] = {}
_STORES_LOCK = threading.Lock()


def budget_store(url: str | None) -> LocalBudgetStore | RedisBudgetStore:
    """The store of a budget: this process's (None), else one Redis client per URL and process."""
    if not url:
        return _LOCAL_STORE
    with _STORES_LOCK:
        store = _REDIS_STORES.get(url)
        if store is None:
            store = _REDIS_STORES[url] = RedisBudgetStore(url)
        return store


class RequestBudget:
    """
    At most ``rate`` request starts a second on one Apple Developer team (the service throttles
    per team, so every key of a team shares it), evenly spaced: each request reserves the next
    start (generic cell rate algorithm) and waits for it.

    In this process's store the rate is this process's (a task's: a pool slot's); in a shared
    store (Redis) it is the team's, across every key, worker, the triggerer and every user. Retries
    reserve again: a 429 or a 5xx costs the budget like any request.

    :param rate: requests a second.
    :param key: what shares the budget: the host and the Team ID
        (:attr:`~airflow_provider_applemusic.connection.AppleMusicSettings.budget_key`).
    :param store: where the reservations live (:func:`budget_store`).
    """

    def __init__(self, rate: float, key: str, store: LocalBudgetStore | RedisBudgetStore) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be greater than 0, got {rate!r}")
        self.rate = rate
        self.key = f"applemusic:budget:{key}"
        self.store = store

    @property
    def shared(self) -> bool:
        """Whether the budget is shared beyond this process."""
        return not isinstance(self.store, LocalBudgetStore)

    def acquire(self) -> float:
        """Wait for this request's start; returns the seconds waited."""
        wait = self.store.reserve(self.key, 1.0 / self.rate)
        if wait > 0:
            time.sleep(wait)
        return wait

    async def acquire_async(self) -> float:
        """:meth:`acquire` for the event loop (a shared store is asked from a thread)."""
        if self.shared:
            wait = await asyncio.to_thread(self.store.reserve, self.key, 1.0 / self.rate)
        else:
            wait = self.store.reserve(self.key, 1.0 / self.rate)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
