"""
Adaptive concurrency: how many requests of one hook are in flight, and how fast they start,
grown on success and cut on 429 (AIMD), for threads and for an event loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

#: after this long without a 429, the pace grows by PACE_GROWTH per success
PACE_CALM_SECONDS = 1.0
PACE_GROWTH = 1.05
#: a pace above this many requests a second is lifted altogether
PACE_RELEASE_RATE = 1000.0


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
