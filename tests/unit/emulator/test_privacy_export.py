"""The emulator's privacy export: the header variants verbatim, its containers, its truth, its command."""

from __future__ import annotations

import csv
import json
import zipfile
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.__main__ import main
from airflow_provider_applemusic.emulator.privacy_export import HEADERS, write_privacy_export

if TYPE_CHECKING:
    import pathlib

    import pytest


def test_the_header_variants_have_the_reported_columns() -> None:
    sizes = {variant: len(header) for variant, header in HEADERS.items()}
    assert sizes == {
        "2018": 28,
        "2019-03": 30,
        "2019-05": 31,
        "2019-08": 31,
        "2021": 38,
        "2023": 118,
        "2025": 145,
    }
    assert "Song Name" in HEADERS["2018"] and "Content Name" in HEADERS["2019-08"]
    assert "Event Type" not in HEADERS["2019-03"] and "Event Type" in HEADERS["2019-05"]
    assert HEADERS["2019-08"] == sorted(HEADERS["2019-08"])
    assert "Apple ID Number" in HEADERS["2021"] and "Store Front Name" in HEADERS["2021"]
    assert "User\u2019s Playback Format" in HEADERS["2021"] and "User\u2019s Audio Quality" in HEADERS["2023"]
    assert "Artist Name" not in HEADERS["2023"] and "Event ID" in HEADERS["2023"]
    assert set(HEADERS["2023"]) < set(HEADERS["2025"])


def test_rows_are_written_under_the_variants_header(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=300, variant="2021", container="csv", malformed=3)
    with open(export.source, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADERS["2021"]
    assert len(rows) - 1 == export.truth.rows
    assert sum(len(row) != len(rows[0]) for row in rows) == export.truth.skipped["malformed"] == 3


def test_the_truth_holds_joined_segments_skips_and_every_kind_of_skipped_row(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=2000, variant="2023", container="zip")
    truth = export.truth
    assert truth.play_count == len(truth.plays) > 500
    assert truth.segments_joined > 20
    for reason in (
        "event_type:PLAY_START",
        "event_type:LYRIC_DISPLAY",
        "media_type:VIDEO",
        "end_reason:FAILED_TO_LOAD",
        "no_song_name",
        "not_a_play",
    ):
        assert truth.skipped[reason] > 0, reason
    assert any(play["catalog_id"] is None for play in truth.plays)  # uploads, ambiguous titles
    assert any(play["duration_ms"] is None for play in truth.plays)
    assert len({play["event_id"] for play in truth.plays}) == truth.play_count


def test_a_larger_export_of_the_same_seed_is_a_newer_export_of_the_same_history(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old = write_privacy_export(str(tmp_path / "a"), rows=300, container="csv", tracks=50)
    new = write_privacy_export(str(tmp_path / "b"), rows=600, container="csv", tracks=50)
    assert new.truth.plays[: len(old.truth.plays)] == old.truth.plays
    assert len(new.truth.plays) > len(old.truth.plays)


def test_nested_zips_hold_the_activity_three_levels_down(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=100, container="nested")
    with zipfile.ZipFile(export.source) as outer:
        assert outer.namelist() == ["Apple Media Services information/Apple_Media_Services.zip"]


def test_the_command_writes_an_export_and_prints_its_truth(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth_file = tmp_path / "truth.json"
    argv = ["privacy-export", "--out", str(tmp_path), "--rows", "200", "--variant", "2018"]
    assert main([*argv, "--container", "split", "--truth-file", str(truth_file)]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert summary["variant"] == "2018" and summary["container"] == "split" and summary["rows"] == 200
    plays = json.loads(truth_file.read_text(encoding="utf-8"))
    assert len(plays) == summary["plays"] > 0
    assert sorted(p.name for p in (tmp_path / "download").iterdir()) == [
        "Apple Media Services information Part 1 of 2.zip",
        "Apple Media Services information Part 2 of 2.zip",
    ]
