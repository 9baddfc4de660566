"""SeenIds: an exact set of ids, whatever they hold, across its growth."""

from __future__ import annotations

import random

from airflow_provider_applemusic.api.seen import BUCKET_LOAD, FIRST_BUCKETS, SeenIds


def test_holds_exactly_the_ids_added_across_growth() -> None:
    rng = random.Random(7)
    ids = [f"i.{rng.getrandbits(60):015X}" for _ in range(BUCKET_LOAD * FIRST_BUCKETS * 5)]
    seen = SeenIds(ids[::2])
    assert len(seen) == len(ids[::2])
    assert all(i in seen for i in ids[::2])
    assert not any(i in seen for i in ids[1::2])
    seen.update(ids)
    seen.update(ids[:100])  # repeats are not counted twice
    assert len(seen) == len(ids)
    assert all(i in seen for i in ids)


def test_an_id_is_not_found_inside_another_or_across_two() -> None:
    seen = SeenIds(["i.ABC", "DEF", "", "é.ü", "a\0b", "1"])
    for present in ("i.ABC", "DEF", "", "é.ü", "a\0b", "1"):
        assert present in seen
    for absent in ("i.AB", "BC", "ABC", "i.ABC\0DEF", "C\0D", "a", "b", "é", "a\0", 1, None):
        assert absent not in seen
    assert len(seen) == 6
    assert seen.add("i.AB") is True
    assert seen.add("i.AB") is False
    assert seen.add("a\0b") is False
    assert seen.add("a\0c") is True


def test_the_empty_id_survives_growth() -> None:
    seen = SeenIds([""])
    seen.update(str(n) for n in range(BUCKET_LOAD * FIRST_BUCKETS + 1))
    assert "" in seen
    assert len(seen) == BUCKET_LOAD * FIRST_BUCKETS + 2
    assert "-1" not in seen
