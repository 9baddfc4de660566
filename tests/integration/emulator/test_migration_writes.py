"""
The emulator's migration endpoints over real HTTP: catalog look-ups by ISRC and UPC, playlist
creation with its appearance delay, appending tracks, ``canEdit`` and the "500 but applied" fault.
"""

from __future__ import annotations

import json
import re
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.emulator.catalog import gtin_check_digit
from airflow_provider_applemusic.emulator.routes import CODE_BATCH_LIMIT
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

PLAYLISTS = "/v1/me/library/playlists"
ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")


class Client:
    """Requests to one emulator with one developer token and the Music User Token."""

    def __init__(self, emulator: AppleMusicEmulator) -> None:
        self.emulator = emulator
        self.headers = support.headers(emulator)

    def get(self, path: str, **params: Any) -> requests.Response:
        return support.request(
            self.emulator, "GET", path, authorize=False, params=params, headers=self.headers
        )

    def send(self, method: str, path: str, body: Any = None, data: bytes | None = None) -> requests.Response:
        return support.request(
            self.emulator, method, path, authorize=False, json=body, data=data, headers=self.headers
        )

    def create(
        self, name: str, description: str | None = None, songs: tuple[str, ...] = ()
    ) -> requests.Response:
        attributes = {"name": name} if description is None else {"name": name, "description": description}
        body = {
            "attributes": attributes,
            "relationships": {"tracks": {"data": [{"id": s, "type": "songs"} for s in songs]}},
        }
        return self.send("POST", PLAYLISTS, body)

    def append(self, playlist_id: str, tracks: list[tuple[str, str]]) -> requests.Response:
        body = {"data": [{"id": track_id, "type": kind} for kind, track_id in tracks]}
        return self.send("POST", f"{PLAYLISTS}/{playlist_id}/tracks", body)

    def listed_playlists(self) -> list[str]:
        response = self.get(PLAYLISTS, limit=100)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    def track_catalog_ids(self, playlist_id: str) -> list[str]:
        response = self.get(f"{PLAYLISTS}/{playlist_id}/tracks", limit=100, include="catalog")
        assert response.status_code == 200, response.text
        return [t["relationships"]["catalog"]["data"][0]["id"] for t in response.json()["data"]]


@pytest.fixture
def client(start_emulator: Callable[..., AppleMusicEmulator]) -> Callable[..., Client]:
    """Start an emulator with the given options; a client for it."""

    def make(**options: Any) -> Client:
        options.setdefault("albums", 60)
        return Client(start_emulator(**options))

    return make


def _error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["status"] == str(status)
    return error


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> float:
    """Poll until ``condition`` holds; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "condition never held"
        time.sleep(0.05)
    return time.monotonic() - start


# -- catalog look-ups by code ----------------------------------------------------------------


def test_codes_have_the_standard_formats_and_some_are_shared(client: Callable[..., Client]) -> None:
    emulator = client().emulator
    isrcs, upcs = emulator.isrcs(), emulator.upcs()
    assert isrcs and all(ISRC.match(code) for code in isrcs)
    assert all(code.isdigit() and len(code) in (12, 13) for code in upcs)
    assert all(gtin_check_digit(code[:-1]) == code[-1] for code in upcs)
    assert {len(code) for code in upcs} == {12, 13}  # UPCs and some EANs
    ambiguous = emulator.isrcs(ambiguous=True)
    assert ambiguous and all(len(emulator.songs_for_isrc(c)) in (2, 3) for c in ambiguous)
    assert all(len(emulator.songs_for_isrc(c)) == 1 for c in emulator.isrcs(ambiguous=False))
    assert set(emulator.isrcs(ambiguous=True)) | set(emulator.isrcs(ambiguous=False)) == set(isrcs)
    assert emulator.upcs(ambiguous=True)
    owned = set(emulator.library_ids("songs"))
    in_library = emulator.isrcs(in_library=True)
    assert in_library and all(set(emulator.songs_for_isrc(c)) & owned for c in in_library)
    assert not any(set(emulator.songs_for_isrc(c)) & owned for c in emulator.isrcs(in_library=False))


def test_filter_isrc_answers_every_song_of_each_known_code(client: Callable[..., Client]) -> None:
    c = client()
    emulator = c.emulator
    ambiguous = emulator.isrcs(ambiguous=True)[:2]
    single = emulator.isrcs(ambiguous=False)[:3]
    unknown = ["ZZ0000000001", "QZ9AB2412345"]
    codes = [single[0], *ambiguous, unknown[0], *single[1:], unknown[1]]
    response = c.get("/v1/catalog/us/songs", **{"filter[isrc]": ",".join(codes)})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    expected = [i for code in codes for i in emulator.songs_for_isrc(code)]
    assert [song["id"] for song in data] == expected
    assert len(expected) >= len(single) + 2 * len(ambiguous)
    assert all(song["type"] == "songs" and song["attributes"]["isrc"] in codes for song in data)
    for code in ambiguous:  # single and album versions: several catalog songs, one code
        assert len([s for s in data if s["attributes"]["isrc"] == code]) >= 2


def test_filter_answers_200_and_no_data_when_nothing_matches(client: Callable[..., Client]) -> None:
    c = client()
    known = c.emulator.isrcs()[0]
    for codes in ("ZZ0000000001", known.lower(), known[:2] + "-" + known[2:]):  # matched exactly as sent
        response = c.get("/v1/catalog/us/songs", **{"filter[isrc]": codes})
        assert response.status_code == 200, response.text
        assert response.json() == {"data": []}
    response = c.get("/v1/catalog/us/albums", **{"filter[upc]": "000000000000"})
    assert response.status_code == 200 and response.json() == {"data": []}


def test_filter_upc_answers_albums_eans_included(client: Callable[..., Client]) -> None:
    c = client()
    emulator = c.emulator
    ean = next(code for code in emulator.upcs(ambiguous=False) if len(code) == 13)
    shared = emulator.upcs(ambiguous=True)[0]
    upc = next(code for code in emulator.upcs(ambiguous=False) if len(code) == 12)
    codes = [upc, shared, ean, "999999999999"]
    response = c.get("/v1/catalog/us/albums", **{"filter[upc]": ",".join(codes)})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [album["id"] for album in data] == [i for code in codes for i in emulator.albums_for_upc(code)]
    assert len(emulator.albums_for_upc(shared)) == 2
    assert [a["attributes"]["upc"] for a in data] == [upc, shared, shared, ean]


def test_filter_with_relate_library_links_library_songs(client: Callable[..., Client]) -> None:
    c = client()
    code = c.emulator.isrcs(in_library=True)[0]
    owned = c.emulator.library_ids("songs")
    response = c.get("/v1/catalog/us/songs", relate="library", **{"filter[isrc]": code})
    assert response.status_code == 200, response.text
    for song in response.json()["data"]:
        linked = song["relationships"]["library"]["data"]
        assert linked == ([{"id": owned[song["id"]], "type": "library-songs"}] if song["id"] in owned else [])
    assert any(song["relationships"]["library"]["data"] for song in response.json()["data"])


@pytest.mark.parametrize(("kind", "name"), [("songs", "filter[isrc]"), ("albums", "filter[upc]")])
def test_filter_batch_limit(client: Callable[..., Client], kind: str, name: str) -> None:
    c = client(albums=300)
    codes = c.emulator.isrcs() if kind == "songs" else c.emulator.upcs()
    assert len(codes) > CODE_BATCH_LIMIT == 25
    response = c.get(f"/v1/catalog/us/{kind}", **{name: ",".join(codes[:CODE_BATCH_LIMIT])})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) >= CODE_BATCH_LIMIT
    over = _error(c.get(f"/v1/catalog/us/{kind}", **{name: ",".join(codes[: CODE_BATCH_LIMIT + 1])}), 400)
    assert over["source"] == {"parameter": name}


def test_filter_refuses_ids_other_filters_and_nothing(client: Callable[..., Client]) -> None:
    c = client()
    isrc, song = c.emulator.isrcs()[0], c.emulator.catalog_ids("songs")[0]
    both = _error(c.get("/v1/catalog/us/songs", ids=song, **{"filter[isrc]": isrc}), 400)
    assert both["source"] == {"parameter": "ids"}
    wrong = _error(c.get("/v1/catalog/us/songs", **{"filter[upc]": c.emulator.upcs()[0]}), 400)
    assert wrong["source"] == {"parameter": "filter[upc]"}
    assert _error(c.get("/v1/catalog/us/songs"), 400)["source"] == {"parameter": "ids"}
    empty = _error(c.get("/v1/catalog/us/albums", **{"filter[upc]": ","}), 400)
    assert empty["source"] == {"parameter": "filter[upc]"}


# -- playlists ---------------------------------------------------------------------------------


def test_created_playlist_appears_only_after_the_delay(client: Callable[..., Client]) -> None:
    c = client(playlist_delay=1.0)
    emulator = c.emulator
    songs = tuple(emulator.catalog_ids("songs")[:3])
    description = "Migrated from elsewhere · run=manual__2025-01-01 «é»\n"
    started = time.monotonic()
    response = c.create("Migrated ✓", description, songs)
    assert response.status_code == 201, response.text
    (playlist,) = response.json()["data"]
    playlist_id = playlist["id"]
    assert playlist_id.startswith("p.") and playlist["type"] == "library-playlists"
    assert playlist["attributes"]["name"] == "Migrated ✓"
    assert playlist["attributes"]["canEdit"] is True
    assert playlist["attributes"]["description"] == {"standard": description}
    assert emulator.playlist_tracks(playlist_id) == list(songs)
    assert emulator.created_playlists()[0]["visible"] is False
    # not there yet: not listed, 404 by id, for its tracks and for appending
    assert playlist_id not in c.listed_playlists()
    _error(c.get(f"{PLAYLISTS}/{playlist_id}"), 404)
    _error(c.get(f"{PLAYLISTS}/{playlist_id}/tracks"), 404)
    _error(c.append(playlist_id, [("songs", songs[0])]), 404)
    assert playlist_id not in [p["id"] for p in emulator.library_items("library-playlists")]
    _wait_until(lambda: playlist_id in c.listed_playlists())
    assert time.monotonic() - started >= 1.0
    assert c.get(f"{PLAYLISTS}/{playlist_id}").json()["data"][0]["attributes"]["canEdit"] is True
    assert c.track_catalog_ids(playlist_id) == list(songs)
    assert playlist_id in [p["id"] for p in emulator.library_items("library-playlists")]
    assert emulator.created_playlists() == [
        {
            "id": playlist_id,
            "name": "Migrated ✓",
            "description": description,
            "visible": True,
            "tracks": list(songs),
        }
    ]


def test_created_playlist_without_tracks_answers_404_for_its_tracks(client: Callable[..., Client]) -> None:
    c = client(playlist_delay=0)
    response = c.send("POST", PLAYLISTS, {"attributes": {"name": "Empty"}})
    assert response.status_code == 201, response.text
    playlist = response.json()["data"][0]
    assert "description" not in playlist["attributes"]
    assert playlist["id"] in c.listed_playlists()
    _error(c.get(f"{PLAYLISTS}/{playlist['id']}/tracks"), 404)
    assert c.emulator.playlist_tracks(playlist["id"]) == []


def test_append_keeps_order_and_duplicates_and_adds_songs_to_the_library(
    client: Callable[..., Client],
) -> None:
    c = client(playlist_delay=0)
    emulator = c.emulator
    first, second, third = emulator.catalog_ids("songs")[:3]
    owned_catalog, owned_library = next(iter(emulator.library_ids("songs").items()))
    playlist_id = c.create("Order", songs=(first,)).json()["data"][0]["id"]
    response = c.append(
        playlist_id,
        [
            ("songs", second),
            ("songs", first),
            ("library-songs", owned_library),
            ("songs", "1"),
            ("songs", third),
        ],
    )
    assert response.status_code == 204 and response.content == b""
    expected = [first, second, first, owned_catalog, third]  # unknown id "1" skipped
    # each entry by the id it was added with: the library song by its library id
    assert emulator.playlist_tracks(playlist_id) == [first, second, first, owned_library, third]
    assert c.track_catalog_ids(playlist_id) == expected
    assert {first, second, third} <= set(emulator.library_ids("songs"))
    assert c.append(playlist_id, [("songs", second)]).status_code == 204
    assert c.track_catalog_ids(playlist_id) == [*expected, second]
    assert emulator.stats.playlist_writes == {"create": 1, "append": 2}


def test_playlist_the_app_cannot_edit_is_refused(client: Callable[..., Client]) -> None:
    c = client(playlists=8)
    emulator = c.emulator
    foreign = next(
        p["id"]
        for p in emulator.library_items("library-playlists")
        if not p["attributes"]["canEdit"] and p["id"] in emulator.playlist_ids(with_tracks=True)
    )
    before = emulator.playlist_tracks(foreign)
    error = _error(c.append(foreign, [("songs", emulator.catalog_ids("songs")[0])]), 403)
    assert error["title"] == "Forbidden"
    assert "created" in error["detail"] and "app" in error["detail"]
    assert emulator.playlist_tracks(foreign) == before
    editable = next(
        p["id"] for p in emulator.library_items("library-playlists") if p["attributes"]["canEdit"]
    )
    assert c.append(editable, [("songs", emulator.catalog_ids("songs")[0])]).status_code == 204


def test_playlist_write_errors(client: Callable[..., Client]) -> None:
    c = client(playlist_delay=0)
    song = c.emulator.catalog_ids("songs")[0]
    playlist_id = c.create("Errors").json()["data"][0]["id"]
    tracks = f"{PLAYLISTS}/{playlist_id}/tracks"
    good = {"data": [{"id": song, "type": "songs"}]}
    _error(c.append("p.doesnotexist00", [("songs", song)]), 404)
    _error(c.send("PUT", tracks, good), 405)
    _error(c.send("DELETE", f"{PLAYLISTS}/{playlist_id}"), 405)
    _error(c.send("POST", f"{PLAYLISTS}/{playlist_id}", good), 405)
    _error(c.send("POST", tracks + "/", good), 400)
    _error(c.send("POST", PLAYLISTS + "/", {"attributes": {"name": "x"}}), 400)
    _error(c.send("POST", tracks, data=b"{not json"), 400)
    _error(c.send("POST", tracks, data=b"\xff\xfe"), 400)
    _error(c.send("POST", tracks, [good]), 400)
    assert _error(c.send("POST", tracks, {"data": []}), 400)["source"] == {"parameter": "data"}
    assert _error(c.send("POST", tracks, {"data": [{"id": song, "type": "albums"}]}), 400)["source"] == {
        "parameter": "data[0].type"
    }
    assert _error(c.send("POST", PLAYLISTS, {"attributes": {}}), 400)["source"] == {
        "parameter": "attributes.name"
    }
    bad_tracks = {"attributes": {"name": "x"}, "relationships": {"tracks": {"data": "nope"}}}
    assert _error(c.send("POST", PLAYLISTS, bad_tracks), 400)["source"] == {
        "parameter": "relationships.tracks.data"
    }
    assert c.emulator.playlist_tracks(playlist_id) == []
    assert len(c.emulator.created_playlists()) == 1
    assert c.send("POST", tracks, good).status_code == 204


def test_500_but_applied_on_append(client: Callable[..., Client]) -> None:
    c = client(playlist_delay=0)
    emulator = c.emulator
    first, second = emulator.catalog_ids("songs")[:2]
    playlist_id = c.create("Faulty").json()["data"][0]["id"]
    emulator.inject("500_applied", 1, path_prefix=f"{PLAYLISTS}/{playlist_id}/tracks")
    error = _error(c.append(playlist_id, [("songs", first)]), 500)
    assert error["code"] == "50001"
    assert emulator.playlist_tracks(playlist_id) == [first]  # applied all the same
    assert c.append(playlist_id, [("songs", second)]).status_code == 204  # the fault is spent
    assert emulator.playlist_tracks(playlist_id) == [first, second]
    assert c.track_catalog_ids(playlist_id) == [first, second]


def test_500_but_applied_on_create(client: Callable[..., Client]) -> None:
    c = client(playlist_delay=0.5)
    emulator = c.emulator
    song = emulator.catalog_ids("songs")[0]
    emulator.inject("500_applied", 1, path_prefix=PLAYLISTS)
    assert _error(c.create("Created anyway", "marker run-42", (song,)), 500)["code"] == "50001"
    (created,) = emulator.created_playlists()
    assert created["name"] == "Created anyway" and created["tracks"] == [song]
    _wait_until(lambda: created["id"] in c.listed_playlists())
    listed = c.get(f"{PLAYLISTS}/{created['id']}").json()["data"][0]
    assert listed["attributes"]["description"] == {"standard": "marker run-42"}


def test_bad_bodies_leave_the_server_serving(client: Callable[..., Client]) -> None:
    c = client(playlist_delay=0)
    emulator = c.emulator
    playlist_id = c.create("Raw").json()["data"][0]["id"]
    song = emulator.catalog_ids("songs")[0]

    def raw(request: bytes) -> bytes:
        with socket.create_connection((emulator.host, emulator.port), timeout=10) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
            return b"".join(chunks)

    head = f"Authorization: {c.headers['Authorization']}\r\nMusic-User-Token: {emulator.user_token}\r\n"
    path = f"{PLAYLISTS}/{playlist_id}/tracks"
    assert raw(f"POST {path} HTTP/1.1\r\n{head}Content-Length: abc\r\n\r\n".encode()).startswith(
        b"HTTP/1.1 400"
    )
    assert raw(f"POST {path} HTTP/1.1\r\n{head}Content-Length: 99999999\r\n\r\n".encode()).startswith(
        b"HTTP/1.1 413"
    )
    body = json.dumps({"data": [{"id": song, "type": "songs"}]}).encode()
    chunked = f"{len(body) - 5:x}\r\n".encode() + body[:-5] + b"\r\n5\r\n" + body[-5:] + b"\r\n0\r\n\r\n"
    answer = raw(
        f"POST {path} HTTP/1.1\r\n{head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
        + chunked
    )
    assert answer.startswith(b"HTTP/1.1 204"), answer
    assert emulator.playlist_tracks(playlist_id) == [song]
    assert c.get("/v1/me/storefront").status_code == 200
