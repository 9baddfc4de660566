"""A playlist's tracks through the hook: every entry by position, repeats kept, whatever the paging."""

from __future__ import annotations

import random
from typing import Any

import pytest

from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

TRACKS = "library-playlist-tracks"
#: positions around the page boundaries of 100-track pages (overlap at 99, 198; pages from 100, 200)
BOUNDARY_REPEATS = (1, 2, 97, 98, 99, 100, 101, 102, 150, 197, 198, 199, 200, 201, 249)


def tracks_with_repeats(songs: list[str], length: int, seed: int = 3) -> list[str]:
    """``length`` library song ids; those at :data:`BOUNDARY_REPEATS` repeat a song standing earlier."""
    rng = random.Random(seed)
    tracks: list[str] = []
    fresh = iter(songs)
    for position in range(length):
        tracks.append(rng.choice(tracks) if position in BOUNDARY_REPEATS and tracks else next(fresh))
    return tracks


#: the emulator of the tests that make their own playlists (a fresh one each)
LIBRARY: dict[str, Any] = {"albums": 5, "songs": 400, "playlists": 4, "playlist_tracks": 20}


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


@pytest.mark.parametrize("pages_in_flight", [1, 4])
@pytest.mark.parametrize("length", [1, 99, 100, 101, 250])
def test_every_entry_of_a_playlist_that_repeats_songs_comes_in_order(
    start_emulator: Any, length: int, pages_in_flight: int
) -> None:
    library = start_emulator(**LIBRARY)
    songs = _ids(library.library_items("library-songs"))
    tracks = tracks_with_repeats(songs, length)
    playlist = library.make_playlist(tracks)
    assert library.playlist_tracks(playlist) == tracks
    got = list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist, pages_in_flight=pages_in_flight))
    assert _ids(got) == tracks
    assert got == library.library_items(TRACKS, parent_id=playlist, extend=())


def test_the_issue_playlist_of_218_tracks_nine_twice_comes_whole(start_emulator: Any) -> None:
    library = start_emulator(**LIBRARY)
    songs = _ids(library.library_items("library-songs"))[:209]
    tracks = list(songs)
    for position, song in zip((20, 60, 99, 105, 130, 150, 175, 190, 210), songs[::7], strict=False):
        tracks.insert(position, song)
    playlist = library.make_playlist(tracks)
    got = _ids(list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist, pages_in_flight=4)))
    assert len(got) == 218
    assert got == tracks


@pytest.mark.parametrize("pages_in_flight", [1, 4])
def test_faults_on_the_way_lose_and_double_no_entry(start_emulator: Any, pages_in_flight: int) -> None:
    emulator = start_emulator(albums=5, songs=400, playlists=2, html_error_bodies=True)
    tracks = tracks_with_repeats(_ids(emulator.library_items("library-songs")), 250)
    playlist = emulator.make_playlist(tracks)
    path = f"/v1/me/library/playlists/{playlist}/tracks"
    # every page fails once, each its own way: an HTML 504, a truncation (404), a dropped connection
    emulator.inject("504_html", path_prefix=path, offset=0)
    emulator.inject("404", path_prefix=path, offset=99)
    emulator.inject("drop", path_prefix=path, offset=198)
    emulator.inject("429", path_prefix=path, offset=198)
    got = list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist, pages_in_flight=pages_in_flight))
    assert _ids(got) == tracks
    assert emulator.stats.statuses[504] == 1 and emulator.stats.statuses[404] == 1
    assert emulator.stats.statuses[429] == 1 and emulator.stats.dropped == 1


def test_hidden_tracks_leave_short_pages_and_every_visible_entry_comes_once(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, songs=900, playlists=12, playlist_tracks=90, hidden_every=9)
    hook = AppleMusicHook()
    checked = 0
    for playlist in emulator.playlist_ids(with_tracks=True):
        expected = emulator.library_items(TRACKS, parent_id=playlist, extend=())
        if len(expected) < len(emulator.playlist_tracks(playlist)):  # some of its songs are hidden
            checked += 1
            assert list(hook.iter_library(TRACKS, parent_id=playlist)) == expected
    assert checked


@pytest.mark.parametrize("length", [99, 100, 101, 250])
def test_the_inline_tracks_fallback_keeps_repeats_to_the_end(start_emulator: Any, length: int) -> None:
    # the listing answers 404 at offset 0 once (as on accounts that hide it): the playlist
    # fetched with include=tracks gives the first 100 inline, then next goes on
    emulator = start_emulator(albums=5, songs=400, playlists=2)
    tracks = tracks_with_repeats(_ids(emulator.library_items("library-songs")), length)
    playlist = emulator.make_playlist(tracks)
    emulator.inject("404", count=1, path_prefix=f"/v1/me/library/playlists/{playlist}/tracks", offset=0)
    got = list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist, pages_in_flight=4))
    assert _ids(got) == tracks
    assert emulator.stats.paths[f"/v1/me/library/playlists/{playlist}"] == 1


def test_generated_playlists_repeat_songs_and_come_whole(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, songs=600, playlists=12, playlist_tracks=60)
    hook = AppleMusicHook()
    repeating = 0
    for playlist in emulator.playlist_ids(with_tracks=True):
        expected = emulator.playlist_tracks(playlist)
        repeating += len(set(expected)) < len(expected)
        assert _ids(list(hook.iter_library(TRACKS, parent_id=playlist, pages_in_flight=2))) == expected
    assert repeating, "generated playlists repeat songs, as users' playlists do"


@pytest.mark.parametrize("max_concurrency", [1, 4])
@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_an_export_with_playlist_tracks_keeps_every_entry_of_playlists_that_repeat_songs(
    start_emulator: Any, tmp_path: Any, file_format: str, max_concurrency: int
) -> None:
    library = start_emulator(**LIBRARY)
    import json

    from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

    songs = _ids(library.library_items("library-songs"))
    made = {
        library.make_playlist(tracks_with_repeats(songs, length, seed=length)) for length in (1, 101, 250)
    }
    path = tmp_path / f"playlists.{file_format}"
    AppleMusicExportOperator(
        task_id="playlists",
        resource="library-playlists",
        path=str(path),
        file_format=file_format,
        playlist_tracks=True,
        max_concurrency=max_concurrency,
    ).execute({})  # type: ignore[arg-type]
    if file_format == "jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = [json.loads(text) for text in pq.read_table(path).column("resource_json").to_pylist()]
    assert made <= {row["id"] for row in rows}
    for row in rows:
        assert _ids(row["relationships"]["tracks"]["data"]) == library.playlist_tracks(row["id"]), row["id"]
