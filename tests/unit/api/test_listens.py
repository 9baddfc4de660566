"""The privacy export's play rule: candidate rows, joined segments, the threshold, played_at, play_id."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.listens import (
    PlayRule,
    Segment,
    clamp,
    is_play,
    join,
    ledger_row,
    pick_catalog_id,
    play_id,
    skip_reason,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

RULE = PlayRule()
T0 = 1_600_000_000_000
S = 1000
MIN = 60 * S


def _segment(end: int, play: int, *, reason: str = "NATURAL_END_OF_TRACK", **changes: Any) -> Segment:
    values: dict[str, Any] = {
        "device": "d1",
        "song": "Song",
        "album": "Album",
        "end_ms": end,
        "play_ms": play,
        "media_ms": 200 * S,
        "end_reason": reason,
        "event_id": None,
    }
    values.update(changes)
    return Segment(**values)


def _listens(*segments: Segment, rule: PlayRule = RULE) -> list[Any]:
    ordered = sorted(segments, key=lambda s: (s.device, s.start_ms, s.end_ms))
    return list(join(ordered, rule))


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (("PLAY_END", "AUDIO", "NATURAL_END_OF_TRACK", "Song"), None),
        (("", "AUDIO", "", "Song"), None),  # older rows: blank type, a play end
        (("PLAY_START", "AUDIO", "", "Song"), "event_type:PLAY_START"),
        (("LYRIC_DISPLAY", "AUDIO", "", "Song"), "event_type:LYRIC_DISPLAY"),
        (("PLAY_END", "VIDEO", "NATURAL_END_OF_TRACK", "Clip"), "media_type:VIDEO"),
        (("PLAY_END", "AUDIO", "FAILED_TO_LOAD", "Song"), "end_reason:FAILED_TO_LOAD"),
        (("PLAY_END", "AUDIO", "NOT_APPLICABLE", "  "), "no_song_name"),
    ],
)
def test_which_rows_are_candidate_segments(row: tuple[str, str, str, str], reason: str | None) -> None:
    assert skip_reason(*row, RULE) == reason


def test_durations_are_clamped_to_the_track() -> None:
    assert clamp(-5_000, 200 * S) == 0
    assert clamp(9_999 * S, 200 * S) == 200 * S  # a stuck timer
    assert clamp(9_999 * S, None) == 9_999 * S
    stuck = _segment(T0, 40 * 200 * S)
    assert stuck.start_ms == T0 - 200 * S


def test_paused_segments_of_one_song_are_one_listen_and_one_play() -> None:
    first = _segment(T0 + 40 * S, 40 * S, reason="PLAYBACK_MANUALLY_PAUSED")
    second = _segment(T0 + 20 * MIN + 40 * S, 40 * S, reason="SCRUB_BEGIN")
    third = _segment(T0 + 29 * MIN + 60 * S, 30 * S, reason="TRACK_SKIPPED_FORWARDS")
    [listen] = _listens(first, second, third)
    assert listen.segments == 3 and listen.played_ms == 110 * S
    assert is_play(listen, RULE)  # 110 s of 200: more than half, though no segment alone is
    assert not any(is_play(one, RULE) for one in _listens(first) + _listens(second) + _listens(third))
    assert listen.played_at_ms == T0  # the first segment's end less its duration


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ({"device": "d2"}, "another device"),
        ({"song": "Other"}, "another song"),
        ({"album": "Other Album"}, "another album"),
        ({"end_ms": T0 + 40 * S + 31 * MIN + 60 * S}, "more than 30 minutes later"),
    ],
)
def test_segments_are_not_joined(second: dict[str, Any], why: str) -> None:
    first = _segment(T0 + 40 * S, 40 * S, reason="PLAYBACK_SUSPENDED")
    later = _segment(T0 + 40 * S + 10 * MIN + 60 * S, 60 * S)._replace(**second)
    assert len(_listens(first, later)) == 2, why


def test_a_segment_ended_by_a_skip_or_the_track_end_is_not_continued() -> None:
    for reason in (
        "TRACK_SKIPPED_FORWARDS",
        "NATURAL_END_OF_TRACK",
        "MANUALLY_SELECTED_PLAYBACK_OF_A_DIFF_ITEM",
    ):
        first = _segment(T0 + 40 * S, 40 * S, reason=reason)
        assert len(_listens(first, _segment(T0 + 2 * MIN, 60 * S))) == 2


def test_the_same_song_played_twice_is_two_plays_with_two_ids() -> None:
    one = _segment(T0 + 200 * S, 200 * S)
    two = _segment(T0 + 10 * MIN, 200 * S)
    listens = _listens(one, two)
    assert [is_play(listen, RULE) for listen in listens] == [True, True]
    assert len({play_id(listen) for listen in listens}) == 2


@pytest.mark.parametrize(
    ("media", "played", "expected"),
    [
        (200 * S, 100 * S, True),  # half the track
        (200 * S, 99_999, False),
        (600 * S, 240 * S, True),  # 4 minutes of a 10-minute track
        (600 * S, 239_999, False),
        (40 * S, 29_999, False),  # under 30 s, though most of the track
        (40 * S, 30 * S, True),
        (20 * S, 20 * S, False),  # a whole track under 30 s
        (None, 30 * S, True),  # no media duration: 30 s
        (None, 29_999, False),
    ],
)
def test_last_fm_threshold(media: int | None, played: int, expected: bool) -> None:
    [listen] = _listens(_segment(T0 + played, played, media_ms=media))
    assert is_play(listen, RULE) is expected


def test_the_rule_knobs_change_the_outcome() -> None:
    [listen] = _listens(_segment(T0 + 45 * S, 45 * S, media_ms=None))
    assert is_play(listen, RULE)
    assert not is_play(listen, PlayRule.checked(min_seconds=60))
    joined = [
        _segment(T0 + 60 * S, 60 * S, reason="PLAYBACK_MANUALLY_PAUSED"),
        _segment(T0 + 5 * MIN, 60 * S),
    ]
    assert len(_listens(*joined)) == 1
    assert len(_listens(*joined, rule=PlayRule.checked(join_within_seconds=60))) == 2
    assert skip_reason("PLAY_END", "VIDEO", "", "x", PlayRule.checked(skip_media_types=[])) is None


def test_play_id_comes_from_the_first_event_id_else_time_device_and_song() -> None:
    first = _segment(T0 + 40 * S, 40 * S, reason="PLAYBACK_MANUALLY_PAUSED", event_id="ev-1")
    second = _segment(T0 + 2 * MIN, 60 * S, event_id="ev-2")
    [listen] = _listens(first, second)
    assert play_id(listen) == hashlib.blake2b(b"event|ev-1", digest_size=10).hexdigest()
    [bare] = _listens(_segment(T0 + 40 * S, 40 * S))
    expected = hashlib.blake2b(f"segment|{T0}|d1|Song".encode(), digest_size=10).hexdigest()
    assert play_id(bare) == expected


def test_ledger_row_of_a_play() -> None:
    [listen] = _listens(_segment(T0 + 150 * S, 150 * S, artist="Artist", event_id="e"))
    row = ledger_row(listen, "1440857781", "Daily Artist")
    assert row["played_at"] == row["estimated_played_at"] == "2020-09-13T12:26:40.000+00:00"
    assert row["source"] == "privacy-export" and row["kind"] == "play"
    assert row["catalog_id"] == row["id"] == "1440857781" and row["type"] == "songs"
    assert row["artist_name"] == "Artist"  # the export's own column first
    assert row["duration_ms"] == 200 * S and row["observed_after"] is None


@pytest.mark.parametrize(
    ("candidates", "artist", "expected"),
    [
        ([("1", "A", "2024-01-02")], None, ("1", "A")),
        ([("1", "A", "2024-01-01")], None, ("1", "A")),  # the day before (a local day)
        ([("1", "A", "2024-01-02"), ("2", "B", "2024-01-01")], None, ("1", "A")),  # the same day first
        ([("1", "A", "2024-01-02"), ("2", "B", "2024-01-02")], None, (None, None)),  # never a guess
        ([("1", "A", "2024-01-02"), ("2", "B", "2024-01-02")], "b", ("2", "B")),
        ([], "A", (None, None)),
    ],
)
def test_catalog_id_by_day_and_title(
    candidates: list[tuple[str, str, str]], artist: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert pick_catalog_id(candidates, "2024-01-02", artist) == expected


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"min_seconds": -1}, "min_seconds must be 0 or more"),
        ({"min_fraction": 1.5}, "min_fraction must be between 0 and 1"),
        ({"join_within_seconds": "30m"}, "join_within_seconds must be a number"),
        ({"enough_seconds": True}, "enough_seconds must be a number"),
        ({"event_types": "PLAY_END"}, "event_types must be a list of strings"),
        ({"skip_end_reasons": [3]}, "skip_end_reasons must be a list of strings"),
        ({"wobble": 1}, "wobble is not a knob"),
    ],
)
def test_bad_knobs_are_refused_naming_them(knobs: dict[str, Any], message: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=message):
        PlayRule.checked(**knobs)


# --- property: listens made of known pieces are found back exactly ---------------------------

_piece = st.tuples(
    st.integers(1, 120),  # seconds played
    st.integers(1, 29 * 60),  # pause before the next piece, seconds
)
_listen = st.tuples(
    st.sampled_from(["d1", "d2"]),
    st.sampled_from(["A", "B"]),
    st.lists(_piece, min_size=1, max_size=4),
    st.one_of(st.none(), st.integers(20, 900)),  # media seconds
    st.integers(31 * 60, 5 * 3600),  # gap after the listen (so the next never joins it)
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_listen, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_join_finds_each_listen_back_whatever_the_row_order(listens: list[Any], rnd: Any) -> None:
    clock = {"d1": T0, "d2": T0}
    segments, expected = [], []
    for device, song, pieces, media, gap in listens:
        media_ms = None if media is None else media * S
        start = clock[device]
        moment, total = start, 0
        for index, (seconds, pause) in enumerate(pieces):
            last = index == len(pieces) - 1
            played = seconds * S
            kept = clamp(played, media_ms)
            reason = "TRACK_SKIPPED_FORWARDS" if last else "PLAYBACK_MANUALLY_PAUSED"
            segments.append(
                _segment(moment + kept, played, reason=reason, device=device, song=song, media_ms=media_ms)
            )
            total += kept
            moment += kept + (0 if last else pause * S)
        clock[device] = moment + gap * S
        threshold = 30 * S if media_ms is None else max(30 * S, min(media_ms / 2, 240 * S))
        expected.append((device, start, len(pieces), total, total >= threshold))
    rnd.shuffle(segments)
    found = [
        (listen.first.device, listen.played_at_ms, listen.segments, listen.played_ms, is_play(listen, RULE))
        for listen in _listens(*segments)
    ]
    assert sorted(found) == sorted(expected)
    ids = [play_id(listen) for listen in _listens(*segments)]
    assert len(set(ids)) == len(ids)
