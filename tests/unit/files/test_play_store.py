"""The import's scratch store: segments sorted on disk, plays kept once, the plays a ledger file holds."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.api.listens import Segment
from airflow_provider_applemusic.files.formats import encode
from airflow_provider_applemusic.files.play_store import PlayStore, ledger_keys, natural_key

if TYPE_CHECKING:
    import pathlib


def _segment(device: str, end: int, song: str = "S") -> Segment:
    return Segment(device, song, "A", end, 1000, 200_000, "NATURAL_END_OF_TRACK")


def _row(play_id: str, played_at: str | None, source: str, name: str = "Song") -> dict[str, Any]:
    return {"kind": "play", "play_id": play_id, "name": name, "played_at": played_at, "source": source}


def test_segments_come_back_by_device_then_start_and_a_repeated_row_once(tmp_path: pathlib.Path) -> None:
    store = PlayStore(str(tmp_path))
    rows = [_segment("d2", 5_000), _segment("d1", 9_000), _segment("d1", 3_000), _segment("d1", 9_000)]
    for segment in rows:
        store.add_segment(segment)
    assert [(s.device, s.end_ms) for s in store.sorted_segments()] == [
        ("d1", 3_000),
        ("d1", 9_000),
        ("d2", 5_000),
    ]
    store.close()


def test_plays_are_kept_once_and_known_ones_are_left_out(tmp_path: pathlib.Path) -> None:
    store = PlayStore(str(tmp_path))
    plays = [
        _row("a", "2024-01-01T10:00:00.000+00:00", "privacy-export"),
        _row("b", "2024-01-01T09:00:00.000+00:00", "privacy-export"),
        _row("c", "2024-01-02T00:00:00.500+00:00", "privacy-export", "Other"),
    ]
    assert store.add_plays(plays) == 3
    assert store.add_plays(plays[:1]) == 0  # the same play id again
    when = dt.datetime(2024, 1, 2, 0, 0, 0, 500_000, tzinfo=dt.timezone.utc)
    store.add_known([("a", None), ("x", natural_key(when, "Other"))])  # c under another id
    days = [(day, [row["play_id"] for row in rows], known) for day, rows, known in store.new_plays()]
    assert days == [("2024-01-01", ["b"], 1), ("2024-01-02", [], 1)]
    store.close()


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_ledger_keys_of_both_formats(file_format: str, tmp_path: pathlib.Path) -> None:
    rows = [
        {**_row("p1", None, "poll"), "estimated_played_at": "2024-01-01T10:00:00+00:00"},
        _row("e1", "2024-01-01T10:00:00.250+00:00", "privacy-export"),
    ]
    path = tmp_path / f"ledger.{file_format}"
    path.write_bytes(b"".join(encode([rows], "ledger", file_format, None)))
    when = dt.datetime(2024, 1, 1, 10, 0, 0, 250_000, tzinfo=dt.timezone.utc)
    assert list(ledger_keys(str(path))) == [("p1", None), ("e1", natural_key(when, "Song"))]
    assert natural_key(when, "Song") == f"{int(when.timestamp() * 1000)}|Song"
