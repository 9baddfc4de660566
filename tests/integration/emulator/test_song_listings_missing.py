"""The emulator's ``song_listings_missing`` accounts and ``relationship_limit``, over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

TRACKS = "library-playlist-tracks"
#: the emulator the module's tests share (``start_emulator(shared=True, ...)``)
SHARED: dict[str, Any] = {
    "albums": 20,
    "songs": 120,
    "playlists": 9,
    "playlist_tracks": 30,
    "song_listings_missing": True,
}


def _longest_playlist(emulator: AppleMusicEmulator) -> str:
    return max(emulator.playlist_ids(with_tracks=True), key=lambda p: len(emulator.playlist_tracks(p)))


def test_songs_and_playlist_tracks_answer_404_like_an_empty_collection(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    playlist = _longest_playlist(emulator)
    assert emulator.library_items("library-songs")
    for path in ("/v1/me/library/songs", f"/v1/me/library/playlists/{playlist}/tracks"):
        for offset in ("0", "25"):
            answer = support.get(emulator, path, limit="25", offset=offset)
            assert answer.status_code == 404
            (error,) = answer.json()["errors"]
            assert (error["status"], error["code"], error["title"]) == ("404", "40400", "Resource Not Found")


def test_the_playlist_with_include_tracks_still_carries_them(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    playlist = _longest_playlist(emulator)
    body = support.get(emulator, f"/v1/me/library/playlists/{playlist}", include="tracks").json()
    relationship = body["data"][0]["relationships"]["tracks"]
    assert relationship["data"] == emulator.library_items(TRACKS, parent_id=playlist, extend=())
    assert "next" not in relationship


def test_the_other_listings_and_single_songs_are_served(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    for path in ("/v1/me/library/albums", "/v1/me/library/playlists", "/v1/me/library/artists"):
        assert support.get(emulator, path).status_code == 200
    song = emulator.library_items("library-songs")[0]["id"]
    assert support.get(emulator, f"/v1/me/library/songs/{song}").json()["data"][0]["id"] == song


def test_relationship_limit_pages_the_inline_tracks_with_next() -> None:
    with AppleMusicEmulator(
        albums=5, songs=200, playlists=6, playlist_tracks=40, relationship_limit=7
    ) as emu:
        playlist = _longest_playlist(emu)
        expected = emu.library_items(TRACKS, parent_id=playlist, extend=())
        assert len(expected) > 7
        relationship = support.get(emu, f"/v1/me/library/playlists/{playlist}", include="tracks").json()[
            "data"
        ][0]["relationships"]["tracks"]
        assert relationship["data"] == expected[:7]
        assert relationship["next"] == f"/v1/me/library/playlists/{playlist}/tracks?offset=7"
        rest = support.get(emu, f"/v1/me/library/playlists/{playlist}/tracks", offset="7", limit="100").json()
        assert rest["data"] == expected[7:107]
