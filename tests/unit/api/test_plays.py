"""The rule of what is a new play in the recent-plays list, and the ledger rows and state it gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.plays import HISTORY_LIMIT, count_new, entry_key, poll

T0 = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)


def _entry(name: str, duration: int | None = 180_000) -> dict[str, Any]:
    attributes: dict[str, Any] = {"name": f"Song {name}", "artistName": "A", "albumName": "B"}
    if duration is not None:
        attributes["durationInMillis"] = duration
    attributes["playParams"] = {"id": name, "kind": "song"}
    return {"id": name, "type": "songs", "attributes": attributes}


def _entries(names: str | list[str]) -> list[dict[str, Any]]:
    return [_entry(name) for name in names]


def _played(history: list[str], *songs: str) -> list[str]:
    """The service's list after ``songs`` were played in order: de-duplicated, newest 50."""
    for song in songs:
        history = [song, *(s for s in history if s != song)][:HISTORY_LIMIT]
    return history


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows if row["kind"] == "play"]


def test_nothing_changed_is_nothing_new() -> None:
    assert count_new(["a", "b", "c"], ["a", "b", "c"]) == 0


def test_new_songs_on_top_are_new() -> None:
    assert count_new(["a", "b", "c"], ["x", "y", "a", "b", "c"]) == 2


def test_a_song_moved_to_the_top_is_a_replay() -> None:
    assert count_new(["a", "b", "c"], ["c", "a", "b"]) == 1
    assert count_new(["a", "b", "c"], ["a", "c", "b"]) == 2  # c, then a again


def test_the_tail_cut_at_50_does_not_count() -> None:
    previous = [str(i) for i in range(50)]
    assert count_new(previous, ["x", *previous[:49]]) == 1


def test_a_song_gone_from_the_list_does_not_count() -> None:
    assert count_new(["a", "b", "c"], ["a", "c"]) == 0


def test_nothing_previous_makes_everything_new() -> None:
    assert count_new([], ["a", "b"]) == 2
    assert count_new(["a"], ["x", "y"]) == 2


def test_first_run_records_every_entry_with_no_start_of_window() -> None:
    result = poll(None, _entries("abc"), T0, "run1")
    assert result.first and result.new == 3
    assert _ids(result.rows) == ["a", "b", "c"]
    assert all(row["observed_after"] is None for row in result.rows)
    assert result.rows[0]["observed_before"] == "2026-11-30T12:00:00+00:00"
    assert result.rows[0]["source"] == "poll"
    assert result.rows[0]["catalog_id"] == "a"


def test_estimated_times_spread_back_by_durations_and_stop_at_the_window() -> None:
    first = poll(None, _entries("abc"), T0, "run1")
    entries = [_entry("x", 120_000), _entry("y", 600_000), _entry("z", None), *_entries("abc")]
    result = poll(first.state, entries, T0 + 10 * MINUTE, "run2")
    times = [row["estimated_played_at"] for row in result.rows]
    # x ended at the poll, y before x, z (no duration) at y's start, clamped to the window's start
    assert times == ["2026-11-30T12:08:00+00:00", "2026-11-30T12:00:00+00:00", "2026-11-30T12:00:00+00:00"]
    assert {row["observed_after"] for row in result.rows} == {"2026-11-30T12:00:00+00:00"}


def test_a_retry_of_the_same_run_finds_the_same_plays_with_the_same_ids() -> None:
    first = poll(None, _entries("abc"), T0, "run1")
    second = poll(first.state, _entries("xabc"), T0 + MINUTE, "run2")
    retried = poll(second.state, _entries("xabc"), T0 + 2 * MINUTE, "run2")
    assert [r["play_id"] for r in retried.rows] == [r["play_id"] for r in second.rows]
    # a later play on top: the retry adds it and keeps the earlier id
    again = poll(retried.state, _entries("yxabc"), T0 + 3 * MINUTE, "run2")
    assert _ids(again.rows) == ["y", "x"]
    assert again.rows[1]["play_id"] == second.rows[0]["play_id"]
    # the next run starts from the state of run2: nothing twice
    third = poll(again.state, _entries("yxabc"), T0 + 4 * MINUTE, "run3")
    assert third.rows == []


def test_play_ids_differ_for_replays_of_one_song() -> None:
    first = poll(None, _entries("abc"), T0, "r1")
    second = poll(first.state, _entries("cab"), T0 + MINUTE, "r2")
    third = poll(second.state, _entries("acb"), T0 + 2 * MINUTE, "r3")
    fourth = poll(third.state, _entries("cab"), T0 + 3 * MINUTE, "r4")  # c again: the order of r2
    assert fourth.older  # taken for a stale read first...
    fifth = poll(fourth.state, _entries("cab"), T0 + 4 * MINUTE, "r5")
    ids = [row["play_id"] for result in (first, second, third, fifth) for row in result.rows]
    assert len(ids) == len(set(ids))
    assert [_ids(r.rows) for r in (second, third, fifth)] == [["c"], ["a"], ["c"]]  # ...then accepted


def test_an_older_order_is_not_new_and_the_list_stays() -> None:
    first = poll(None, _entries("abc"), T0, "r1")
    second = poll(first.state, _entries("bac"), T0 + MINUTE, "r2")  # b replayed
    assert _ids(second.rows) == ["b"]
    stale = poll(second.state, _entries("abc"), T0 + 2 * MINUTE, "r3")  # the order of r1 again
    assert stale.older and stale.rows == []
    back = poll(stale.state, _entries("bac"), T0 + 3 * MINUTE, "r4")
    assert back.rows == []  # b is not recorded twice


def test_an_older_order_that_only_lacks_the_newest_plays_is_held_back_too() -> None:
    # a list shorter than 50: the stale read shows nothing new, but taking it would drop x and
    # y from the kept list, and the next run would record them again
    first = poll(None, _entries("abc"), T0, "r1")
    second = poll(first.state, _entries("yxabc"), T0 + MINUTE, "r2")
    stale = poll(second.state, _entries("abc"), T0 + 2 * MINUTE, "r3")
    assert stale.older and stale.rows == []
    after = poll(stale.state, _entries("yxabc"), T0 + 3 * MINUTE, "r4")
    assert after.rows == []


def test_an_older_order_that_stays_is_accepted_in_a_later_run() -> None:
    first = poll(None, _entries("abc"), T0, "r1")
    second = poll(first.state, _entries("bac"), T0 + MINUTE, "r2")
    stale = poll(second.state, _entries("abc"), T0 + 2 * MINUTE, "r3")
    retried = poll(stale.state, _entries("abc"), T0 + 3 * MINUTE, "r3")  # a retry does not decide
    assert retried.older and retried.rows == []
    later = poll(retried.state, _entries("abc"), T0 + 4 * MINUTE, "r4")
    assert not later.older
    assert _ids(later.rows) == ["a"]  # a was really played again
    assert later.rows[0]["observed_after"] == "2026-11-30T12:01:00+00:00"


def test_a_lost_overlap_in_a_full_list_is_a_gap_then_every_entry() -> None:
    old = [f"o{i}" for i in range(50)]
    first = poll(None, _entries(old), T0, "r1")
    fresh = [f"n{i}" for i in range(50)]
    result = poll(first.state, _entries(fresh), T0 + 60 * MINUTE, "r2")
    assert result.gap and result.new == 50
    assert result.rows[0]["kind"] == "gap"
    assert (result.rows[0]["observed_after"], result.rows[0]["observed_before"]) == (
        "2026-11-30T12:00:00+00:00",
        "2026-11-30T13:00:00+00:00",
    )
    assert _ids(result.rows) == fresh
    assert poll(result.state, _entries(fresh), T0 + 61 * MINUTE, "r3").rows == []


def test_a_burst_over_50_whose_oldest_song_was_a_replay_is_a_gap() -> None:
    old = [f"o{i}" for i in range(50)]
    first = poll(None, _entries(old), T0, "r1")
    # two fresh songs, o30 again, then 49 fresh: o30 stands last, as if it had survived
    history = _played(old, "x1", "x2", "o30", *(f"n{i}" for i in range(49)))
    assert history[-1] == "o30"
    result = poll(first.state, _entries(history), T0 + 60 * MINUTE, "r2")
    assert result.gap and result.new == 50 and _ids(result.rows) == history


def test_a_song_taken_out_of_the_library_is_not_a_gap() -> None:
    old = [f"o{i}" for i in range(50)]
    first = poll(None, _entries(old), T0, "r1")
    after_removal = [key for key in old if key != "o3"]
    history = _played(after_removal, *(f"n{i}" for i in range(10)))
    result = poll(first.state, _entries(history), T0 + 15 * MINUTE, "r2")
    assert not result.gap and _ids(result.rows) == [f"n{i}" for i in reversed(range(10))]


def test_a_short_list_with_nothing_kept_is_not_a_gap() -> None:
    first = poll(None, _entries("ab"), T0, "r1")
    result = poll(first.state, _entries("xy"), T0 + MINUTE, "r2")
    assert not result.gap and _ids(result.rows) == ["x", "y"]


def test_the_state_is_json_and_small() -> None:
    import json

    state = poll(None, _entries([f"s{i}" for i in range(50)]), T0, "r1").state
    for i in range(20):
        state = poll(
            state, _entries([f"t{i}", *(f"s{j}" for j in range(49))]), T0 + i * MINUTE, f"r{i + 2}"
        ).state
    assert len(json.dumps(state)) < 16_000
    assert json.loads(json.dumps(state)) == state


SONGS = st.sampled_from([f"s{i}" for i in range(70)])


@settings(max_examples=200, deadline=None)
@given(
    start=st.lists(SONGS, unique=True, max_size=50),
    bursts=st.lists(st.lists(SONGS, max_size=12), min_size=1, max_size=8),
)
def test_never_more_plays_than_happened_and_fresh_songs_all_counted(
    start: list[str], bursts: list[list[str]]
) -> None:
    state = poll(None, _entries(start), T0, "r0").state
    history = start
    recorded: list[str] = []
    played = new = 0
    behind = False  # the last run took the list for an older order and kept the one before
    for number, burst in enumerate(bursts, 1):
        before = history
        history = _played(history, *burst)
        played += len(burst)
        result = poll(state, _entries(history), T0 + number * MINUTE, f"r{number}")
        # a retry of the same run records the same plays
        retry = poll(result.state, _entries(history), T0 + number * MINUTE, f"r{number}")
        assert [r["play_id"] for r in retry.rows] == [r["play_id"] for r in result.rows]
        state = retry.state
        new += result.new
        assert new <= played or result.gap  # a play is never invented
        fresh = [s for s in dict.fromkeys(burst) if s not in before]
        if not behind and not result.older and len(set(burst)) == len(fresh) and not result.gap:
            assert result.new == len(fresh)
        behind = result.older
        recorded += [row["play_id"] for row in result.rows]
    assert len(recorded) == len(set(recorded))


def test_entry_key_is_type_and_id() -> None:
    assert entry_key({"type": "library-songs", "id": "i.1"}) == "library-songs:i.1"
