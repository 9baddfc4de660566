"""The request budget's reservations, in process: spaced by the rate."""

from __future__ import annotations

import itertools

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
