"""The emulator's ``song_listings_missing`` accounts and ``relationship_limit``, over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests

from airflow_provider_applemusic.emulator import AppleMusicEmulator

TRACKS = "library-playlist-tracks"


def _get(emulator: AppleMusicEmulator, path: str, **params: Any) -> requests.Response:
    now = int(time.time())
    claims = {"iss": emulator.team_id, "iat": now, "exp": now + 3600}
    token = jwt.encode(claims, emulator._private_key, algorithm="ES256", headers={"kid": emulator.key_id})
    headers = {"Authorization": f"Bearer {token}", "Music-User-Token": emulator.user_token}
    return requests.get(emulator.url + path, params=params, headers=headers, timeout=10)


def _longest_playlist(emulator: AppleMusicEmulator) -> str:
    return max(emulator.playlist_ids(with_tracks=True), key=lambda p: len(emulator.playlist_tracks(p)))


@pytest.fixture(scope="module")
def emulator() -> Any:
    with AppleMusicEmulator(
        albums=20, songs=120, playlists=9, playlist_tracks=30, song_listings_missing=True
    ) as emu:
        yield emu


def test_songs_and_playlist_tracks_answer_404_like_an_empty_collection(emulator: AppleMusicEmulator) -> None:
    playlist = _longest_playlist(emulator)
    assert emulator.library_items("library-songs")
    for path in ("/v1/me/library/songs", f"/v1/me/library/playlists/{playlist}/tracks"):
        for offset in ("0", "25"):
            answer = _get(emulator, path, limit="25", offset=offset)
            assert answer.status_code == 404
            (error,) = answer.json()["errors"]
            assert (error["status"], error["code"], error["title"]) == ("404", "40400", "Resource Not Found")


def test_the_playlist_with_include_tracks_still_carries_them(emulator: AppleMusicEmulator) -> None:
    playlist = _longest_playlist(emulator)
    body = _get(emulator, f"/v1/me/library/playlists/{playlist}", include="tracks").json()
    relationship = body["data"][0]["relationships"]["tracks"]
    assert relationship["data"] == emulator.library_items(TRACKS, parent_id=playlist, extend=())
    assert "next" not in relationship


def test_the_other_listings_and_single_songs_are_served(emulator: AppleMusicEmulator) -> None:
    for path in ("/v1/me/library/albums", "/v1/me/library/playlists", "/v1/me/library/artists"):
        assert _get(emulator, path).status_code == 200
    song = emulator.library_items("library-songs")[0]["id"]
    assert _get(emulator, f"/v1/me/library/songs/{song}").json()["data"][0]["id"] == song


def test_relationship_limit_pages_the_inline_tracks_with_next() -> None:
    with AppleMusicEmulator(
        albums=5, songs=200, playlists=6, playlist_tracks=40, relationship_limit=7
    ) as emu:
        playlist = _longest_playlist(emu)
        expected = emu.library_items(TRACKS, parent_id=playlist, extend=())
        assert len(expected) > 7
        relationship = _get(emu, f"/v1/me/library/playlists/{playlist}", include="tracks").json()["data"][0][
            "relationships"
        ]["tracks"]
        assert relationship["data"] == expected[:7]
        assert relationship["next"] == f"/v1/me/library/playlists/{playlist}/tracks?offset=7"
        rest = _get(emu, f"/v1/me/library/playlists/{playlist}/tracks", offset="7", limit="100").json()
        assert rest["data"] == expected[7:107]


def test_flags_are_checked_and_reach_the_command_line() -> None:
    from airflow_provider_applemusic.emulator.__main__ import build_parser

    with pytest.raises(ValueError, match="relationship_limit must be an integer of 0 or more"):
        AppleMusicEmulator(relationship_limit=-1)
    args = build_parser().parse_args(["--song-listings-missing", "--relationship-limit", "100"])
    assert (args.song_listings_missing, args.relationship_limit) == (True, 100)
    assert build_parser().parse_args([]).song_listings_missing is False
