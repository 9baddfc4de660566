"""The play history through the hook and the export: plays of catalog and library songs, every entry."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

PLAYED = "recently-played-tracks"
PLAYED_PATH = "/v1/me/recent/played/tracks"


def test_the_history_holds_plays_of_library_songs_and_music_videos_in_order(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, songs=200, history=50)
    expected = emulator.library_items(PLAYED, extend=())
    types = Counter(entry["type"] for entry in expected)
    assert types["library-songs"] and types["songs"] and types["music-videos"], types
    played = list(AppleMusicHook().iter_library(PLAYED))
    assert played == expected
    assert len(played) == 50
    # entries without attributes (music videos) are kept as the service sent them
    assert all(set(e) == {"id", "type", "href"} for e in played if e["type"] == "music-videos")
    # without types the service would have left the library songs out
    assert len(emulator.library_items(PLAYED, extend=(), types=("songs",))) < len(played)


def test_the_history_is_asked_with_types_in_pages_of_30(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, songs=200, history=50)
    list(AppleMusicHook().iter_library(PLAYED))
    assert emulator.stats.paths[PLAYED_PATH] == 2  # 30, then the overlap and the last 20
    assert dict(emulator.stats.page_sizes) == {30: 2}


def test_a_history_page_short_of_its_limit_while_next_is_present_is_not_the_end(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, songs=200, history=50, recently_played_short_every=1)
    expected = emulator.library_items(PLAYED, extend=())
    played = list(AppleMusicHook().iter_library(PLAYED, page_size=10))
    # every page came back 2 short with next present: the overlap showed the gap, and the page
    # fetched again from further back brought the entries the short page had left out
    assert played == expected
    assert len(played) == 50
    assert emulator.stats.paths[PLAYED_PATH] > 6  # 6 pages of 10 overlapping by 1 would do without gaps


def test_a_song_played_again_moves_to_the_top_and_stands_once(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, songs=200, history=50)
    last = emulator.library_items(PLAYED, extend=())[-1]
    emulator.play(last["type"], last["id"])
    played = list(AppleMusicHook().iter_library(PLAYED))
    assert played[0]["id"] == last["id"]
    assert [e["id"] for e in played].count(last["id"]) == 1


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_a_history_export_keeps_the_plays_of_library_songs(
    start_emulator: Any, tmp_path: Any, file_format: str
) -> None:
    emulator = start_emulator(albums=20, songs=200, history=50)
    expected = emulator.library_items(PLAYED, extend=())
    path = tmp_path / f"played.{file_format}"
    AppleMusicExportOperator(
        task_id="played", resource=PLAYED, path=str(path), file_format=file_format
    ).execute(
        {}  # type: ignore[arg-type]
    )
    if file_format == "jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = [json.loads(text) for text in pq.read_table(path).column("resource_json").to_pylist()]
    assert rows == expected
    assert any(row["type"] == "library-songs" for row in rows)
    assert not any("isrc" in (row.get("attributes") or {}) for row in rows if row["type"] == "library-songs")


@pytest.mark.parametrize("page_size", [0, 31])
def test_a_history_page_size_over_30_is_refused_before_any_request(
    start_emulator: Any, page_size: int
) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match="page_size must be an integer from 1 to 30"):
        AppleMusicHook().library_pager(PLAYED, page_size=page_size)
    assert emulator.stats.requests == 0


@pytest.mark.parametrize("language", ["english", "en_US", "e", "en-", "🎵"])
def test_a_malformed_language_is_refused_before_any_request(start_emulator: Any, language: str) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match="language must be a language tag"):
        AppleMusicHook().library_pager("library-albums", language=language)
    assert emulator.stats.requests == 0


def test_a_language_the_service_refuses_is_a_config_error_naming_language(start_emulator: Any) -> None:
    # shaped like xx-YY for the hook's check, but its region is neither 2 letters nor 3 digits
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match=r"^language was refused by the service .*400.*40005"):
        AppleMusicHook().get_library_page("library-albums", language="en-U1")
    assert emulator.stats.statuses[400] == 1
