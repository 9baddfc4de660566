"""The request budget's reservations, in process: spaced by the rate; a missed slot taken again."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from airflow_provider_applemusic.transport.budget import (
    LocalBudgetStore,
    RequestBudget,
)


def test_reservations_are_spaced_by_the_rate() -> None:
    store = LocalBudgetStore()
    waits = [store.reserve("k", 0.25) for _ in range(5)]
    assert waits[0] == pytest.approx(0.0, abs=0.01)
    assert [round(b - a, 2) for a, b in itertools.pairwise(waits)] == [0.25] * 4
    assert store.reserve("other", 0.25) == pytest.approx(0.0, abs=0.01)
    with pytest.raises(ValueError, match="rate must be greater than 0"):
        RequestBudget(0, "k", store)


class _PausingStore(LocalBudgetStore):
    """A store whose process pauses right after its first reservation (a collection, a starved CPU)."""

    def __init__(self, pause: float) -> None:
        super().__init__()
        self.pause = pause
        self.reservations = 0

    def reserve(self, key: str, interval: float) -> float:
        wait = super().reserve(key, interval)
        self.reservations += 1
        if self.reservations == 1:
            time.sleep(self.pause)
        return wait


def test_a_request_woken_after_its_slot_takes_a_new_one() -> None:
    # paused 0.3 s past a slot 0.1 s long: sent now, it would go out with every request whose
    # slot also passed in the pause
    store = _PausingStore(pause=0.3)
    waited = RequestBudget(10, "k", store).acquire()
    assert store.reservations == 2
    assert waited >= 0.3


def test_a_request_takes_a_new_slot_once_then_goes() -> None:
    class AlwaysPaused(_PausingStore):
        def reserve(self, key: str, interval: float) -> float:
            self.reservations += 1
            time.sleep(self.pause)
            return 0.0

    store = AlwaysPaused(pause=0.2)
    RequestBudget(10, "k", store).acquire()
    assert store.reservations == 2


def test_a_request_on_time_takes_one_slot() -> None:
    # a slot ten seconds long: however slow the machine, the request is not late for it
    store = _PausingStore(pause=0.0)
    assert RequestBudget(0.1, "k", store).acquire() < 10
    assert store.reservations == 1


def test_the_async_budget_takes_a_new_slot_too() -> None:
    store = _PausingStore(pause=0.3)
    asyncio.run(RequestBudget(10, "k", store).acquire_async())
    assert store.reservations == 2
