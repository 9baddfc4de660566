"""Reading the privacy export: its containers, its columns by name, bad files and bad rows."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.listens import PlayRule, Segment
from airflow_provider_applemusic.emulator.privacy_export import (
    CONTAINERS,
    HEADERS,
    write_privacy_export,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.play_activity import (
    FIELDS,
    daily_tracks_rows,
    export_files,
    normalise,
    play_activity_rows,
)

if TYPE_CHECKING:
    import pathlib

RULE = PlayRule()


def _read(path: str, name: str | None = None) -> tuple[list[Segment | str], list[tuple[int, str]]]:
    told: list[tuple[int, str]] = []
    with export_files([(path, name or path)]) as found:
        [activity] = [f for f in found if f.kind == "play_activity"]
        rows = list(play_activity_rows(activity, RULE, lambda line, why: told.append((line, why))))
    return rows, told


def _csv(path: pathlib.Path, header: list[str], rows: list[list[str]], bom: bool = False) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + text.getvalue(), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("variant", list(HEADERS))
def test_every_header_variant_maps_the_fields_by_name(variant: str) -> None:
    names = {normalise(name) for name in HEADERS[variant]}
    for field in ("end_time", "play_ms", "song", "device", "media_ms", "end_reason"):
        assert any(normalise(name) in names for name in FIELDS[field]), (variant, field)


def test_columns_are_found_whatever_the_order_case_bom_and_apostrophes(tmp_path: pathlib.Path) -> None:
    header = [
        "User\u2019s Audio Quality", "media duration in milliseconds", "Song Name", "Device Identifier",
        "EVENT END TIMESTAMP", "Play  Duration Milliseconds", "Future Column Nobody Named", "Event Type",
    ]  # fmt: skip
    row = ["HIGH", "200000", "Song", "d1", "2024-05-01T10:00:00.500Z", "150000", "x", "PLAY_END"]
    path = _csv(tmp_path / "Apple Music Play Activity.csv", header, [row], bom=True)
    [segment], told = _read(path)
    assert isinstance(segment, Segment) and not told
    assert segment.song == "Song" and segment.device == "d1" and segment.media_ms == 200_000
    assert segment.end_ms == 1714557600500 and segment.start_ms == 1714557600500 - 150_000


def test_a_file_that_is_not_an_export_names_itself_and_its_columns(tmp_path: pathlib.Path) -> None:
    path = _csv(tmp_path / "Apple Music Play Activity.csv", ["Track Name", "Last Played Date"], [["a", "1"]])
    with pytest.raises(AppleMusicConfigError) as caught:
        _read(path)
    message = str(caught.value)
    assert "Apple Music Play Activity.csv is not the play activity" in message
    assert "Event End Timestamp" in message and "the columns found: Track Name, Last Played Date" in message


def test_malformed_rows_are_skipped_and_told(tmp_path: pathlib.Path) -> None:
    header = ["Event End Timestamp", "Play Duration Milliseconds", "Song Name", "Event Type"]
    rows = [
        ["2024-05-01T10:00:00.000Z", "60000", "Good", "PLAY_END"],
        ["2024-05-01T10:05:00.000Z", "60000"],  # cut short
        ["yesterday", "60000", "Bad time", "PLAY_END"],
        ["2024-05-01T10:09:00.000Z", "lots", "Bad duration", "PLAY_END"],
        ["2024-05-01T10:10:00.000Z", "1.8E+5", "Spreadsheet", "PLAY_END"],
        ["", "", "Start", "PLAY_START"],
        ["", "60000", "No end", "PLAY_END"],
    ]
    path = _csv(tmp_path / "export.csv", header, rows)
    read, told = _read(path)
    kinds = [row if isinstance(row, str) else row.song for row in read]
    assert kinds == [
        "Good",
        "malformed",
        "malformed",
        "malformed",
        "Spreadsheet",
        "event_type:PLAY_START",
        "no_end_time",
    ]
    assert [line for line, _ in told] == [3, 4, 5]
    assert "2 fields, the header has 4" in told[0][1]


def test_daily_tracks_split_artist_and_title_at_the_first_separator(tmp_path: pathlib.Path) -> None:
    header = ["Country", "Track Identifier", "Media type", "Date Played", "Track Description"]
    rows = [
        ["USA", "1440857781", "AUDIO", "20240501", "Artist - Title - Live"],
        ["USA", "", "AUDIO", "20240501", "No - Id"],
    ]
    _csv(tmp_path / "Apple Music - Play History Daily Tracks.csv", header, rows)
    told: list[tuple[int, str]] = []
    with export_files([(str(tmp_path), "export")]) as found:
        [daily] = found
        parsed = list(daily_tracks_rows(daily, lambda line, why: told.append((line, why))))
    assert parsed == [("2024-05-01", "Title - Live", "Artist", "1440857781")]
    assert [line for line, _ in told] == [3]


@pytest.mark.parametrize("container", CONTAINERS)
def test_every_container_yields_the_play_activity_and_daily_tracks(
    container: str, tmp_path: pathlib.Path
) -> None:
    export = write_privacy_export(str(tmp_path), rows=200, container=container)
    with export_files([(export.source, export.source)]) as found:
        kinds = sorted(f.kind for f in found)
        activity = next(f for f in found if f.kind == "play_activity")
        rows = list(play_activity_rows(activity, RULE, lambda *_: None))
    assert kinds == (["play_activity"] if container == "csv" else ["daily_tracks", "play_activity"])
    assert len(rows) == export.truth.rows
    if container == "nested":
        assert activity.name.count("!/") == 3  # zip in zip in zip


def test_parts_are_read_each_when_zips_and_joined_when_pieces_of_one(tmp_path: pathlib.Path) -> None:
    (tmp_path / "split").mkdir()
    (tmp_path / "pieces").mkdir()
    split = write_privacy_export(str(tmp_path / "split"), rows=100, container="split")
    pieces = write_privacy_export(str(tmp_path / "pieces"), rows=100, container="pieces")
    assert all(zipfile.is_zipfile(part) for part in split.files)
    assert not zipfile.is_zipfile(pieces.files[0])
    for source in (split.source, pieces.source):
        with export_files([(source, source)]) as found:
            assert sorted(f.kind for f in found) == ["daily_tracks", "play_activity"]


def test_a_csv_given_alone_is_the_play_activity_whatever_its_name(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=50, container="csv")
    renamed = tmp_path / "my history.csv"
    os.rename(export.source, renamed)
    rows, _ = _read(str(renamed))
    assert len(rows) == export.truth.rows


_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "PLAY_END", "PLAY_START", "VIDEO", "2024-05-01T10:00:00.000Z", "-5", "1.8E+5", "nan"]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_cell, min_size=0, max_size=7), max_size=25))
def test_any_row_is_a_segment_or_a_reason_never_an_error(
    tmp_path: pathlib.Path, rows: list[list[str]]
) -> None:
    header = ["Event End Timestamp", "Play Duration Milliseconds", "Song Name", "Event Type", "Media Type"]
    header += ["Media Duration In Milliseconds"]
    path = _csv(tmp_path / "fuzz.csv", header, rows)
    read, told = _read(path)
    assert all(isinstance(item, (Segment, str)) for item in read)
    assert sum(item == "malformed" for item in read) == len(told)
    with open(path, encoding="utf-8", newline="") as handle:
        records = [r for r in csv.reader(handle)][1:]
    assert len(read) == sum(1 for r in records if r)


def test_pieces_of_one_zip_with_one_missing_are_refused_naming_them(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=100, container="pieces")
    os.remove(export.files[1])
    with pytest.raises(AppleMusicConfigError, match=r"not all there: .*Part 1 of 2\.zip \(of 2 parts\)"):
        _read(export.source)


def test_daily_tracks_tell_malformed_rows_by_their_line_and_skip_blank_lines(tmp_path: pathlib.Path) -> None:
    header = "Country,Track Identifier,Media type,Date Played,Track Description"
    lines = [
        header,
        "USA,1440857781,AUDIO,20240501,Artist - First",
        "",
        "USA,1440857781,AUDIO",  # cut short
        "USA,1440857781,AUDIO,20240502," + "x" * 200_000,  # over the csv module's field limit
        "USA,1440857782,AUDIO,20240503,Artist - Last",
    ]
    (tmp_path / "Apple Music - Play History Daily Tracks.csv").write_text("\n".join(lines) + "\n")
    told: list[tuple[int, str]] = []
    with export_files([(str(tmp_path), "export")]) as found:
        [daily] = found
        parsed = list(daily_tracks_rows(daily, lambda line, why: told.append((line, why))))
    assert [title for _, title, _, _ in parsed] == ["First", "Last"]
    assert [line for line, _ in told] == [4, 5]
    assert "field larger than field limit" in told[1][1]
