"""The playlist operators: library and catalog songs mixed, and a read-back that counts positions."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.playlists import (
    AddTracksToPlaylistOperator,
    CreateLibraryPlaylistOperator,
    holds,
    playlist_entries,
)

NOT_A_SONG = r"tracks holds 'l\.AbC123', which is not a song id: give library song ids \('i\.' then"


def _entries(emulator: Any, playlist_id: str) -> list[tuple[str, str | None]]:
    """The playlist's entries as the emulator holds them, in order, repeats kept."""
    return playlist_entries(
        emulator.library_items("library-playlist-tracks", parent_id=playlist_id, extend=())
    )


def _assert_holds(entries: list[tuple[str, str | None]], songs: list[str]) -> None:
    """Entry by entry, the playlist holds ``songs`` (library ids by id, catalog ids by the song behind)."""
    assert len(entries) == len(songs), (entries, songs)
    assert all(holds(entry, song) for entry, song in zip(entries, songs, strict=True)), (entries, songs)


def _library_songs(emulator: Any, count: int) -> list[str]:
    """Library song ids with a catalog id behind them (uploads and removed songs left aside)."""
    owned = emulator.library_ids("songs")
    return list(owned.values())[:count]


def _fail_the_append_once(emulator: Any, playlist_id: str) -> threading.Thread:
    """
    Answer the next append to the playlist 500 though it is carried out (``500_applied``). The
    append and the read of the tracks share a path, so the fault is armed once the operator's
    first read of the tracks has been answered, and for offset 0 only: the read's later pages
    pass, the append (no offset) takes it. The emulator's latency leaves the time to arm it.
    """
    path = f"/v1/me/library/playlists/{playlist_id}/tracks"
    seen = emulator.stats.paths[path]

    def arm() -> None:
        deadline = time.monotonic() + 60
        while emulator.stats.paths[path] == seen and time.monotonic() < deadline:
            time.sleep(0.001)
        emulator.inject("500_applied", count=1, path_prefix=path, offset=0)

    thread = threading.Thread(target=arm, daemon=True)
    thread.start()
    return thread


# -- the read-back, as pure functions ------------------------------------------------------


# -- mixed library and catalog songs ------------------------------------------------------


def test_create_takes_library_and_catalog_songs_mixed_in_the_order_given(start_emulator: Any) -> None:
    emulator = start_emulator(songs=60, playlist_delay=0)
    library = _library_songs(emulator, 3)
    catalog = emulator.catalog_ids("songs")[:3]
    tracks = [library[0], catalog[0], catalog[1], library[1], catalog[2], library[2]]
    result = CreateLibraryPlaylistOperator(
        task_id="create", name="Mixed", tracks=tracks, appearance_timeout=10
    ).execute({"run_id": "run-1"})  # type: ignore[arg-type]
    assert result["created"] is True and result["appended"] == 0
    _assert_holds(_entries(emulator, result["playlist_id"]), tracks)
    assert emulator.stats.playlist_writes == {"create": 1}


def test_add_tracks_appends_library_and_catalog_songs_mixed_in_the_order_given(start_emulator: Any) -> None:
    emulator = start_emulator(songs=60)
    library = _library_songs(emulator, 4)
    catalog = emulator.catalog_ids("songs")[:3]
    playlist_id = emulator.make_playlist(library[:1], name="Mine")
    tracks = [catalog[0], library[1], library[2], catalog[1], catalog[2], library[3]]
    result = AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=tracks).execute({})  # type: ignore[arg-type]
    assert result == {"playlist_id": playlist_id, "appended": 6}
    _assert_holds(_entries(emulator, playlist_id), [library[0], *tracks])
    assert emulator.stats.playlist_writes["append"] == 1


def test_the_hook_sends_playlist_songs_as_given_repeats_kept(start_emulator: Any) -> None:
    emulator = start_emulator(songs=60, playlist_delay=0)
    library = _library_songs(emulator, 2)
    catalog = emulator.catalog_ids("songs")[:2]
    hook = AppleMusicHook()
    playlist_id = hook.create_library_playlist("Raw", tracks=[catalog[0], library[0], catalog[0]])["id"]
    hook.append_playlist_tracks(playlist_id, [library[1], catalog[1], library[1]])
    _assert_holds(
        _entries(emulator, playlist_id),
        [catalog[0], library[0], catalog[0], library[1], catalog[1], library[1]],
    )


@pytest.mark.parametrize("entry_point", ["create operator", "add operator", "hook create", "hook append"])
def test_a_track_that_is_no_song_id_is_refused_before_any_request_naming_it(
    start_emulator: Any, entry_point: str
) -> None:
    emulator = start_emulator(songs=20)
    tracks = ["i.AbC123", "1440857781", "l.AbC123"]
    with pytest.raises(AppleMusicConfigError, match=NOT_A_SONG):
        if entry_point == "create operator":
            CreateLibraryPlaylistOperator(task_id="c", name="x", tracks=tracks).execute({})  # type: ignore[arg-type]
        elif entry_point == "add operator":
            AddTracksToPlaylistOperator(task_id="a", playlist_id="p.AbC123", tracks=tracks).execute({})  # type: ignore[arg-type]
        elif entry_point == "hook create":
            AppleMusicHook().create_library_playlist("x", tracks=tracks)
        else:
            AppleMusicHook().append_playlist_tracks("p.AbC123", tracks)
    assert emulator.stats.requests == 0


# -- the read-back after a write that failed but was applied ------------------------------


def test_add_tracks_to_a_playlist_that_repeats_songs_appends_each_song_once_after_an_applied_500(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(songs=80, latency_ms=30)
    library = _library_songs(emulator, 6)
    catalog = emulator.catalog_ids("songs")[:2]
    held = [library[0], library[1], library[0], library[2], library[1], library[0]]
    playlist_id = emulator.make_playlist(held, name="Repeats")
    asked = [catalog[0], library[3], catalog[1], library[4]]
    armed = _fail_the_append_once(emulator, playlist_id)
    # library[0] and library[1] are held already (repeated): left alone, not a failure
    result = AddTracksToPlaylistOperator(
        task_id="append", playlist_id=playlist_id, tracks=[library[0], *asked, library[1]]
    ).execute({})  # type: ignore[arg-type]
    armed.join(timeout=5)
    assert result["appended"] == len(asked)
    _assert_holds(_entries(emulator, playlist_id), [*held, *asked])
    assert emulator.stats.statuses[500] == 1, "the append was answered 500"
    assert emulator.stats.playlist_writes["append"] == 1, "read back as applied, never sent again"


def test_add_tracks_with_a_list_that_repeats_a_song_appends_it_once_after_an_applied_500(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(songs=80, latency_ms=30)
    library = _library_songs(emulator, 4)
    catalog = emulator.catalog_ids("songs")[:2]
    held = [library[0], library[1], library[0]]
    playlist_id = emulator.make_playlist(held, name="Asked twice")
    tracks = [catalog[0], library[2], catalog[0], catalog[1], library[2], library[3], catalog[1]]
    armed = _fail_the_append_once(emulator, playlist_id)
    result = AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=tracks).execute({})  # type: ignore[arg-type]
    armed.join(timeout=5)
    once = [catalog[0], library[2], catalog[1], library[3]]
    assert result["appended"] == len(once)
    _assert_holds(_entries(emulator, playlist_id), [*held, *once])
    assert emulator.stats.statuses[500] == 1
    assert emulator.stats.playlist_writes["append"] == 1


def test_add_tracks_resends_an_append_that_failed_unapplied(start_emulator: Any) -> None:
    emulator = start_emulator(songs=80, latency_ms=30)
    library = _library_songs(emulator, 3)
    catalog = emulator.catalog_ids("songs")[:2]
    held = [library[0], library[0]]
    playlist_id = emulator.make_playlist(held, name="Not applied")
    path = f"/v1/me/library/playlists/{playlist_id}/tracks"
    seen = emulator.stats.paths[path]

    def arm() -> None:
        while emulator.stats.paths[path] == seen:
            time.sleep(0.001)
        emulator.inject("500", count=1, path_prefix=path, offset=0)

    armed = threading.Thread(target=arm, daemon=True)
    armed.start()
    asked = [catalog[0], library[1], catalog[1], library[2]]
    result = AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=asked).execute({})  # type: ignore[arg-type]
    armed.join(timeout=5)
    assert result["appended"] == len(asked)
    _assert_holds(_entries(emulator, playlist_id), [*held, *asked])
    assert emulator.stats.statuses[500] == 1
    assert emulator.stats.playlist_writes["append"] == 1, "the one carried out: after the 500 was read back"


@pytest.mark.parametrize("size", [99, 100, 101, 250])
def test_add_tracks_to_a_long_playlist_that_repeats_songs_appends_each_song_once_after_an_applied_500(
    start_emulator: Any, size: int
) -> None:
    emulator = start_emulator(songs=300, latency_ms=10)
    library = _library_songs(emulator, 200)
    # repeats at and around the page boundaries (99, 100, 101, 199, 200)
    held = [library[n % 150] for n in range(size)]
    for position in (98, 99, 100, 198, 199):
        if position < size:
            held[position] = library[0]
    playlist_id = emulator.make_playlist(held, name=f"Long {size}")
    asked = [*emulator.catalog_ids("songs")[:3], library[190], library[195]]
    armed = _fail_the_append_once(emulator, playlist_id)
    result = AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=asked).execute({})  # type: ignore[arg-type]
    armed.join(timeout=5)
    assert result["appended"] == len(asked)
    _assert_holds(_entries(emulator, playlist_id), [*held, *asked])
    assert emulator.stats.statuses[500] == 1
    assert emulator.stats.playlist_writes["append"] == 1
