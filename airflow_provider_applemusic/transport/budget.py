"""
The request budget of an Apple Developer team: GCRA reservations kept in the process or shared
in Redis, waited for by every send.
"""

from __future__ import annotations

import asyncio
import threading
import time

from airflow_provider_applemusic.exceptions import AppleMusicError

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


#: a request that wakes later than this after its slot (or one interval, if longer) takes a new
#: one: see :meth:`RequestBudget._missed`
MISSED_AFTER = 0.05


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
    start (generic cell rate algorithm) and waits for it. A request that wakes well after its
    start (the process was paused) takes a new one rather than go out in a burst with the others
    whose starts passed in the pause.

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
        #: seconds between two request starts
        self.interval = 1.0 / rate
        self.key = f"applemusic:budget:{key}"
        self.store = store

    @property
    def shared(self) -> bool:
        """Whether the budget is shared beyond this process."""
        return not isinstance(self.store, LocalBudgetStore)

    def acquire(self) -> float:
        """Wait for this request's start; returns the seconds waited."""
        began = time.monotonic()
        for attempt in range(2):
            asked = time.monotonic()
            slot = asked + self.store.reserve(self.key, self.interval)
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if attempt or not self._missed(slot):
                break
        return time.monotonic() - began

    async def acquire_async(self) -> float:
        """:meth:`acquire` for the event loop (a shared store is asked from a thread)."""
        began = time.monotonic()
        for attempt in range(2):
            asked = time.monotonic()
            if self.shared:
                slot = asked + await asyncio.to_thread(self.store.reserve, self.key, self.interval)
            else:
                slot = asked + self.store.reserve(self.key, self.interval)
            delay = slot - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if attempt or not self._missed(slot):
                break
        return time.monotonic() - began

    def _missed(self, slot: float) -> bool:
        """
        Whether a request woke too late for its slot (a paused process: garbage collection, a
        starved CPU): requests whose slots passed in the pause would go out together, a burst
        over the budget, so each takes one new slot instead (once: then it goes, late or not).
        """
        return time.monotonic() - slot > max(self.interval, MISSED_AFTER)
