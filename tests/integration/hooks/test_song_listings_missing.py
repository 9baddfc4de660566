"""
Accounts that answer the song listings with 404 (emulator ``song_listings_missing``): playlist
tracks come from ``include=tracks``, library songs fail loudly instead of listing nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import (
    INCURABLE_ERRORS,
    AppleMusicListingUnavailableError,
    AppleMusicRequestError,
)
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook, AppleMusicHook

TRACKS = "library-playlist-tracks"
SONGS_PATH = "/v1/me/library/songs"


def _tracks_path(playlist: str) -> str:
    return f"/v1/me/library/playlists/{playlist}/tracks"


def test_playlist_tracks_are_the_same_as_without_the_flag(start_emulator: Any, set_connection: Any) -> None:
    # relationship_limit=0: every track inline, else the account without the listing cannot reach the rest
    sizes = {"songs": 300, "playlists": 12, "playlist_tracks": 60, "hidden_every": 9, "relationship_limit": 0}
    plain = start_emulator(**sizes)
    set_connection("plain", **plain.connection_dict())
    missing = start_emulator(song_listings_missing=True, **sizes)
    playlists = missing.playlist_ids()
    assert playlists == plain.playlist_ids() and missing.playlist_ids(with_tracks=False)
    longest = 0
    for playlist in playlists:
        expected = list(AppleMusicHook("plain").iter_library(TRACKS, parent_id=playlist))
        got = list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist, page_size=40))
        assert got == expected == missing.library_items(TRACKS, parent_id=playlist, extend=())
        longest = max(longest, len(got))
    assert longest > 100, "a playlist longer than one listing page"
    assert missing.stats.statuses[404] == len(playlists), "every tracks listing answered 404"
    assert all(missing.stats.paths[f"/v1/me/library/playlists/{p}"] == 1 for p in playlists)


def test_one_page_of_playlist_tracks_and_an_empty_playlist(start_emulator: Any) -> None:
    emulator = start_emulator(songs=60, playlists=6, playlist_tracks=10, song_listings_missing=True)
    hook = AppleMusicHook()
    full = emulator.playlist_ids(with_tracks=True)[0]
    page = hook.get_library_page(TRACKS, parent_id=full, extend=["dateAdded"])
    assert page["data"] == emulator.library_items(TRACKS, parent_id=full, extend=("dateAdded",))
    assert "next" not in page
    empty = emulator.playlist_ids(with_tracks=False)[0]
    assert hook.get_library_page(TRACKS, parent_id=empty) == {"data": [], "meta": {"total": 0}}
    assert list(hook.iter_library(TRACKS, parent_id=empty)) == []


def test_a_playlist_gone_between_listing_and_tracks_is_empty(start_emulator: Any) -> None:
    emulator = start_emulator(songs=30, playlists=4, song_listings_missing=True)
    playlist = emulator.playlist_ids(with_tracks=True)[0]
    emulator.apply_changes(remove=[playlist], resource="library-playlists")
    assert list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist)) == []


def test_inline_tracks_with_next_are_followed_through_the_listing(start_emulator: Any) -> None:
    # a listing that 404s once at offset 0 (injected) and a playlist whose inline tracks stop
    # after 7 with next: the rest comes from the listing pages, none skipped, none twice
    emulator = start_emulator(songs=300, playlists=6, playlist_tracks=50, relationship_limit=7)
    playlist = max(emulator.playlist_ids(with_tracks=True), key=lambda p: len(emulator.playlist_tracks(p)))
    expected = emulator.library_items(TRACKS, parent_id=playlist, extend=())
    assert len(expected) > 50
    emulator.inject("404", count=1, path_prefix=_tracks_path(playlist), offset=0)
    assert list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist, page_size=20)) == expected
    assert emulator.stats.paths[f"/v1/me/library/playlists/{playlist}"] == 1


def test_inline_tracks_whose_next_the_account_refuses_fail_rather_than_stop_short(
    start_emulator: Any, set_connection: Any
) -> None:
    emulator = start_emulator(songs=300, playlists=6, playlist_tracks=50, relationship_limit=7)
    emulator.song_listings_missing = True
    fields = emulator.connection_dict()
    fields["extra"].update(max_attempts=2, max_retry_seconds=2)
    set_connection(**fields)
    playlist = max(emulator.playlist_ids(with_tracks=True), key=lambda p: len(emulator.playlist_tracks(p)))
    with pytest.raises(AppleMusicRequestError, match="stayed missing"):
        list(AppleMusicHook().iter_library(TRACKS, parent_id=playlist))


def test_songs_fail_clearly_when_the_library_holds_albums(start_emulator: Any) -> None:
    emulator = start_emulator(albums=30, songs=80, song_listings_missing=True)
    hook = AppleMusicHook()
    with pytest.raises(AppleMusicListingUnavailableError) as raised:
        list(hook.iter_library("library-songs"))
    message = str(raised.value)
    assert "does not serve the library-songs listing" in message
    assert "holds 30 library-albums" in message
    assert raised.value.status == 404 and raised.value.path == SONGS_PATH
    assert emulator.user_token not in message and emulator.private_key_pem not in message
    assert isinstance(raised.value, INCURABLE_ERRORS)
    with pytest.raises(AppleMusicListingUnavailableError):
        hook.get_library_page("library-songs")
    # one 404, one probe of the albums (a limit of 1), each time: no retries
    assert emulator.stats.paths[SONGS_PATH] == 2
    assert emulator.stats.paths["/v1/me/library/albums"] == 2


def test_songs_fail_when_the_library_holds_playlists_but_no_albums(start_emulator: Any) -> None:
    # playlists without albums cannot tell hidden songs from none: failing beats listing nothing
    start_emulator(albums=0, songs=0, playlists=3, song_listings_missing=True)
    with pytest.raises(AppleMusicListingUnavailableError, match="holds 3 library-playlists"):
        list(AppleMusicHook().iter_library("library-songs"))


def test_a_truly_empty_library_still_lists_no_songs(start_emulator: Any) -> None:
    emulator = start_emulator(albums=0, songs=0, playlists=0, song_listings_missing=True)
    hook = AppleMusicHook()
    assert list(hook.iter_library("library-songs")) == []
    assert hook.get_library_page("library-songs") == {"data": [], "meta": {"total": 0}}
    assert emulator.stats.statuses == {404: 6}


def test_an_empty_song_listing_of_an_empty_library_needs_no_flag(start_emulator: Any) -> None:
    emulator = start_emulator(albums=0, songs=0, playlists=0)
    assert list(AppleMusicHook().iter_library("library-songs")) == []
    assert set(emulator.stats.paths) == {SONGS_PATH, "/v1/me/library/albums", "/v1/me/library/playlists"}


async def test_the_async_hook_applies_the_same_rules(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, songs=40, playlists=6, song_listings_missing=True)
    playlist = emulator.playlist_ids(with_tracks=True)[0]
    hook = AppleMusicAsyncHook()
    try:
        tracks = await hook.get_first_page(TRACKS, page_size=100, parent_id=playlist)
        assert tracks["data"] == emulator.library_items(TRACKS, parent_id=playlist, extend=())
        with pytest.raises(AppleMusicListingUnavailableError, match="holds 10 library-albums"):
            await hook.get_first_page("library-songs")
        empty = emulator.playlist_ids(with_tracks=False)[0]
        assert await hook.get_first_page(TRACKS, parent_id=empty) == {"data": [], "meta": {"total": 0}}
    finally:
        await hook.aclose()
