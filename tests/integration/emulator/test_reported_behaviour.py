"""
The behaviour client authors reported (shared notes, 2026-11-30), over real HTTP: playlists that
repeat songs, the play history's ``types``, ``dateAdded`` on artists, HTML 5xx pages, ``l``,
recently-added's end, typed playlist items, artists' ratings, songs without ``playParams``,
withdrawn catalog ids and the rate limit per developer team.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.emulator.__main__ import build_parser
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

PLAYLISTS = "/v1/me/library/playlists"
PLAYED = "/v1/me/recent/played/tracks"
ALL_PLAYS = ("songs", "library-songs")
#: the emulator the module's tests share (``start_emulator(shared=True, ...)``)
SIZES: dict[str, Any] = {
    "albums": 120,
    "songs": 300,
    "artists": 40,
    "playlists": 30,
    "music_videos": 70,
    "playlist_tracks": 30,
    "history": 50,
    "seed": 4,
}


def _error(response: requests.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    return error


def _page(emulator: AppleMusicEmulator, path: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a listing by ``next``, ``limit`` and ``params`` re-applied; checks ``next``."""
    pages = []
    offset = 0
    while True:
        response = support.get(emulator, path, limit=limit, offset=offset, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["data"])
        if "next" not in body:
            return pages
        assert parse_qs(urlsplit(body["next"]).query) == {"offset": [str(offset + limit)]}
        offset += limit


# -- playlists repeat songs ----------------------------------------------------------------------


def test_generated_playlists_repeat_some_songs(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    entries = repeats = 0
    for playlist in emulator.playlist_ids(with_tracks=True):
        ids = [t["id"] for t in emulator.library_items("library-playlist-tracks", parent_id=playlist)]
        entries += len(ids)
        repeats += len(ids) - len(set(ids))
        if len(ids) < 3:
            assert len(set(ids)) == len(ids)
    assert entries > 300
    assert 1 / 40 < repeats / entries < 1 / 8  # about 1 entry in 15
    same = AppleMusicEmulator(**SIZES)  # not serving: the data alone
    playlist = emulator.playlist_ids(with_tracks=True)[0]
    assert same.playlist_tracks(playlist) == emulator.playlist_tracks(playlist)  # from the seed


def _long_playlist(emulator: AppleMusicEmulator) -> tuple[str, list[str]]:
    """A made playlist of 250 tracks whose positions 98 to 101 repeat earlier songs."""
    songs = [s["id"] for s in emulator.library_items("library-songs")][:246]
    tracks = [*songs[:98], songs[5], songs[97], songs[5], songs[0], *songs[98:]]
    assert len(tracks) == 250
    return emulator.make_playlist(tracks, name="Repeats"), tracks


def test_a_made_playlist_pages_every_position_repeats_included(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    playlist, tracks = _long_playlist(emulator)
    assert playlist.startswith("p.") and playlist in emulator.playlist_ids()
    pages = _page(emulator, f"{PLAYLISTS}/{playlist}/tracks", 100)
    assert [len(page) for page in pages] == [100, 100, 50]
    assert [t["id"] for page in pages for t in page] == tracks
    assert pages[0][98]["id"] == pages[1][0]["id"] == pages[0][5]["id"]  # one song at three positions
    assert emulator.playlist_tracks(playlist) == tracks
    listed = support.get(emulator, f"{PLAYLISTS}/{playlist}").json()["data"][0]
    assert listed["attributes"]["name"] == "Repeats" and listed["attributes"]["canEdit"] is True


def test_make_playlist_checks_its_songs_and_an_empty_one_answers_404(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    before = emulator.playlist_ids()
    with pytest.raises(ValueError, match="not in library-songs"):
        emulator.make_playlist(["i.NoSuchSong", emulator.library_items("library-songs")[0]["id"]])
    assert emulator.playlist_ids() == before
    empty = emulator.make_playlist([], can_edit=False)
    assert _error(support.get(emulator, f"{PLAYLISTS}/{empty}/tracks"), 404)["code"] == "40400"
    attributes = support.get(emulator, f"{PLAYLISTS}/{empty}").json()["data"][0]["attributes"]
    assert attributes["canEdit"] is False and attributes["name"] == "Emulated playlist"


def test_include_tracks_inlines_the_first_100_with_total_and_next(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    playlist, tracks = _long_playlist(emulator)
    body = support.get(emulator, f"{PLAYLISTS}/{playlist}", include="tracks").json()
    relationship = body["data"][0]["relationships"]["tracks"]
    assert [t["id"] for t in relationship["data"]] == tracks[:100]
    assert relationship["meta"] == {"total": 250}
    assert relationship["next"] == f"{PLAYLISTS}/{playlist}/tracks?offset=100"
    rest = support.get(emulator, relationship["next"], limit=100).json()
    assert [t["id"] for t in rest["data"]] == tracks[100:200]


def test_include_tracks_on_the_playlists_listing_is_refused(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    for include in ("tracks", "catalog,tracks"):
        error = _error(support.get(emulator, PLAYLISTS, include=include))
        assert (error["code"], error["source"]) == ("40005", {"parameter": "include"})
    assert support.get(emulator, PLAYLISTS, include="catalog").status_code == 200


def test_library_playlists_carry_the_reported_attributes(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    playlists = [p for page in _page(emulator, PLAYLISTS, 100) for p in page]
    for playlist in playlists:
        attributes = playlist["attributes"]
        assert {
            "canEdit",
            "canDelete",
            "isPublic",
            "hasCollaboration",
            "hasCatalog",
            "lastModifiedDate",
        } <= set(attributes)
        assert not any("count" in name.lower() for name in attributes)  # no track count
        params = attributes["playParams"]
        assert (params["id"], params["kind"], params["isLibrary"]) == (playlist["id"], "playlist", True)
        assert isinstance(params["versionHash"], str) and params["versionHash"]
        assert params.get("globalId", "pl.u-").startswith("pl.u-")
        assert attributes["lastModifiedDate"].endswith("Z")
    assert any("globalId" in p["attributes"]["playParams"] for p in playlists)
    assert any("globalId" not in p["attributes"]["playParams"] for p in playlists)
    assert any("standard" in p["attributes"].get("description", {}) for p in playlists)


# -- the play history ------------------------------------------------------------------------------


def test_history_without_types_is_catalog_songs_only(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    plain = [i for page in _page(emulator, PLAYED, 10) for i in page]
    assert plain and {i["type"] for i in plain} <= {"songs", "music-videos"}
    assert any(i["type"] == "songs" for i in plain)
    assert plain == emulator.library_items("recently-played-tracks", extend=(), types=("songs",))
    assert len(plain) < len(emulator.library_items("recently-played-tracks", extend=()))  # the whole history


def test_history_with_types_gives_library_songs_at_their_positions(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    pages = _page(emulator, PLAYED, 10, types="songs,library-songs")
    everything = [i for page in pages for i in page]
    assert len(everything) == 50  # at most 50 in all
    assert everything == emulator.library_items("recently-played-tracks", extend=(), types=ALL_PLAYS)
    library = [i for i in everything if i["type"] == "library-songs"]
    assert library and all("isrc" not in i["attributes"] and "url" not in i["attributes"] for i in library)
    # without types, each page holds the entries of the same positions, library songs skipped
    for offset, page in zip(range(0, 50, 10), pages, strict=True):
        plain = support.get(emulator, PLAYED, limit=10, offset=offset).json()["data"]
        assert plain == [i for i in page if i["type"] != "library-songs"]
    assert any(
        len(support.get(emulator, PLAYED, limit=10, offset=o).json()["data"]) < 10 for o in range(0, 50, 10)
    )


def test_history_limit_is_at_most_30(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    assert len(support.get(emulator, PLAYED, limit=30, types="songs,library-songs").json()["data"]) == 30
    error = _error(support.get(emulator, PLAYED, limit=31))
    assert (error["code"], error["source"]) == ("40005", {"parameter": "limit"})
    default = support.get(emulator, PLAYED).json()
    assert default["next"] == f"{PLAYED}?offset=10"


def test_music_video_plays_have_no_attributes_whatever_types_says(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    for types in (None, "songs", "songs,library-songs"):
        params = {} if types is None else {"types": types}
        items = [i for page in _page(emulator, PLAYED, 30, **params) for i in page]
        videos = [i for i in items if i["type"] == "music-videos"]
        assert videos, "about 1 play in 12 is a music video"
        for video in videos:
            assert set(video) == {"id", "type", "href"}
            assert video["href"] == f"/v1/catalog/us/music-videos/{video['id']}"


def test_recently_played_short_every_leaves_pages_two_short_with_next(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(albums=5, history=50, recently_played_short_every=2)
    pages = _page(emulator, PLAYED, 10, types="songs,library-songs")
    assert [len(page) for page in pages] == [10, 8, 10, 8, 10]
    assert build_parser().parse_args(["--recently-played-short-every", "3"]).recently_played_short_every == 3


def test_replay_moves_to_the_top_without_a_duplicate(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    before = [i["id"] for i in emulator.library_items("recently-played-tracks", types=ALL_PLAYS)]
    emulator.play("songs", before[7])
    after = [
        i["id"] for i in support.get(emulator, PLAYED, limit=30, types="songs,library-songs").json()["data"]
    ]
    assert after[0] == before[7] and after.count(before[7]) == 1


def test_recently_played_resources_page_by_ten(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    path = "/v1/me/recent/played"
    items = [i for page in _page(emulator, path, 10) for i in page]
    assert 0 < len(items) <= 50
    assert {i["type"] for i in items} <= {"albums", "playlists", "stations"}
    assert {"albums", "stations"} <= {i["type"] for i in items}
    assert "meta" not in support.get(emulator, path).json()
    assert _error(support.get(emulator, path, limit=11))["source"] == {"parameter": "limit"}


# -- dateAdded ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "dated"),
    [
        ("artists", True),
        ("albums", True),
        ("songs", True),
        ("playlists", True),
        ("music-videos", False),
    ],
)
def test_date_added_on_artists_never_on_music_videos(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str, dated: bool
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    items = [
        i for page in _page(emulator, f"/v1/me/library/{resource}", 100, extend="dateAdded") for i in page
    ]
    with_date = [i for i in items if "dateAdded" in i["attributes"]]
    if dated:
        assert with_date and len(with_date) < len(items)  # very old items have none
    else:
        assert with_date == []


# -- HTML 5xx bodies ------------------------------------------------------------------------------


def _is_html_page(response: requests.Response, status: int, title: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    text = response.text
    assert text.startswith("<!DOCTYPE html>") and f"<title>{status} {title}</title>" in text
    assert f"<h1>{title}</h1>" in text
    assert "Correlation Key: " in text and text.endswith("</html>")
    assert 1800 <= len(text) <= 2600
    with pytest.raises(ValueError):
        response.json()


def test_html_504_and_500_faults(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    emulator.inject("504_html", path_prefix="/v1/me/library/albums")
    _is_html_page(support.get(emulator, "/v1/me/library/albums"), 504, "Gateway Timeout")
    emulator.inject("500_html", path_prefix="/v1/me/library/songs")
    _is_html_page(support.get(emulator, "/v1/me/library/songs"), 500, "Internal Server Error")
    emulator.inject("504", path_prefix="/v1/me/storefront")
    plain = support.get(emulator, "/v1/me/storefront")  # without html_error_bodies: as before
    assert plain.status_code == 504 and not plain.headers["Content-Type"].startswith("text/html")
    keys = set()
    for _ in range(2):
        emulator.inject("504_html", path_prefix="/v1/me/storefront")
        text = support.get(emulator, "/v1/me/storefront").text
        keys.add(text.split("Correlation Key: ", 1)[1].split("<", 1)[0])
    assert len(keys) == 2  # a fresh correlation key each time


def test_html_error_bodies_turns_500s_503s_and_504s_into_pages(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(albums=5, fail_every=3, html_error_bodies=True)
    statuses = [support.get(emulator, "/v1/me/storefront") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 500]
    _is_html_page(statuses[2], 500, "Internal Server Error")
    emulator.inject("503", path_prefix="/v1/me/storefront")
    _is_html_page(support.get(emulator, "/v1/me/storefront"), 503, "Service Unavailable")
    emulator.inject("504", path_prefix="/v1/me/storefront")
    _is_html_page(support.get(emulator, "/v1/me/storefront"), 504, "Gateway Timeout")
    assert build_parser().parse_args(["--html-error-bodies"]).html_error_bodies is True


# -- l ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["english", "e", "en_US", "en-", "12", "en-US-toolongsubtag", "", "en US"])
def test_malformed_language_tag_answers_400_naming_l(
    start_emulator: Callable[..., AppleMusicEmulator], tag: str
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    catalog_id = emulator.catalog_ids("albums")[0]
    for path, params in (
        ("/v1/me/library/albums", {}),
        ("/v1/catalog/us/albums", {"ids": catalog_id}),
        (PLAYED, {}),
        ("/v1/storefronts/us", {}),
    ):
        error = _error(support.get(emulator, path, l=tag, **params))
        assert (error["code"], error["title"], error["source"]) == (
            "40005",
            "Invalid Parameter Value",
            {"parameter": "l"},
        )


@pytest.mark.parametrize("tag", ["fr-FR", "en", "en-US", "zh-Hant-TW", "es-419"])
def test_a_well_formed_tag_the_storefront_lacks_is_ignored(
    start_emulator: Callable[..., AppleMusicEmulator], tag: str
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    plain = support.get(emulator, "/v1/me/library/albums", limit=5).json()
    tagged = support.get(emulator, "/v1/me/library/albums", limit=5, l=tag)
    assert tagged.status_code == 200 and tagged.json() == plain


# -- recently-added --------------------------------------------------------------------------------


def test_recently_added_ends_at_150(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(albums=200, playlists=20)
    path = "/v1/me/library/recently-added"
    first = support.get(emulator, path, limit=25).json()
    assert first["meta"]["total"] == 150
    pages = _page(emulator, path, 25)
    assert sum(len(page) for page in pages) == 150 and len(pages) == 6
    assert _error(support.get(emulator, path, offset=150), 404)["code"] == "40400"
    assert _error(support.get(emulator, path, limit=26))["source"] == {"parameter": "limit"}


# -- typed playlist items -----------------------------------------------------------------------


@pytest.fixture
def writable(start_emulator: Callable[..., AppleMusicEmulator]) -> tuple[AppleMusicEmulator, str]:
    emulator = start_emulator(albums=10, songs=40, playlist_delay=0)
    response = support.post(emulator, PLAYLISTS, json={"attributes": {"name": "Typed"}})
    assert response.status_code == 201, response.text
    return emulator, response.json()["data"][0]["id"]


@pytest.mark.parametrize(
    ("item", "parameter"),
    [
        ({"id": "i.LIBRARY", "type": "songs"}, "data[3].type"),
        ({"id": "CATALOG", "type": "library-songs"}, "data[3].type"),
        ({"id": "CATALOG", "type": "albums"}, "data[3].type"),
        ({"id": "i.LIBRARY", "type": "library-music-videos"}, "data[3].type"),
        ({"id": "CATALOG", "type": None}, "data[3].type"),
        ({"id": "pl.abc", "type": "songs"}, "data[3].id"),
    ],
)
def test_a_wrongly_typed_item_refuses_the_whole_append(
    writable: tuple[AppleMusicEmulator, str], item: dict[str, Any], parameter: str
) -> None:
    emulator, playlist = writable
    library_song = emulator.library_items("library-songs")[0]["id"]
    catalog_song = emulator.catalog_ids("songs")[0]
    item = {**item, "id": item["id"].replace("i.LIBRARY", library_song).replace("CATALOG", catalog_song)}
    good = [
        {"id": catalog_song, "type": "songs"},
        {"id": library_song, "type": "library-songs"},
        {"id": catalog_song, "type": "songs"},
    ]
    writes = dict(emulator.stats.playlist_writes)
    owned = emulator.library_ids("songs")
    error = _error(support.post(emulator, f"{PLAYLISTS}/{playlist}/tracks", json={"data": [*good, item]}))
    assert (error["code"], error["source"]) == ("40005", {"parameter": parameter})
    assert emulator.playlist_tracks(playlist) == []  # nothing appended, not even the good items
    assert emulator.stats.playlist_writes == writes
    assert emulator.library_ids("songs") == owned  # the catalog song was not added either


def test_a_wrongly_typed_item_refuses_the_create(writable: tuple[AppleMusicEmulator, str]) -> None:
    emulator, _ = writable
    library_song = emulator.library_items("library-songs")[0]["id"]
    created, writes = emulator.created_playlists(), dict(emulator.stats.playlist_writes)
    body = {
        "attributes": {"name": "Never"},
        "relationships": {"tracks": {"data": [{"id": library_song, "type": "songs"}]}},
    }
    error = _error(support.post(emulator, PLAYLISTS, json=body))
    assert error["source"] == {"parameter": "relationships.tracks.data[0].type"}
    assert emulator.created_playlists() == created and emulator.stats.playlist_writes == writes


def test_mixed_library_and_catalog_items_are_appended_in_order(
    writable: tuple[AppleMusicEmulator, str],
) -> None:
    emulator, playlist = writable
    songs = emulator.library_items("library-songs")
    library = [s for s in songs if "catalogId" in s["attributes"].get("playParams", {})][:2]
    catalog = emulator.catalog_ids("songs")[:2]
    data = [
        {"id": library[0]["id"], "type": "library-songs"},
        {"id": catalog[0], "type": "songs"},
        {"id": library[1]["id"], "type": "library-songs"},
        {"id": catalog[1], "type": "songs"},
        {"id": library[0]["id"], "type": "library-songs"},
    ]
    assert support.post(emulator, f"{PLAYLISTS}/{playlist}/tracks", json={"data": data}).status_code == 204
    first, second = (s["id"] for s in library)
    assert emulator.playlist_tracks(playlist) == [first, catalog[0], second, catalog[1], first]
    listed = support.get(emulator, f"{PLAYLISTS}/{playlist}/tracks").json()["data"]
    assert [t["id"] for t in listed][::2] == [first, second, first]


# -- ratings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me/ratings/artists?ids=123"),
        ("GET", "/v1/me/ratings/library-artists?ids=r.abc"),
        ("GET", "/v1/me/ratings/artists/123"),
        ("PUT", "/v1/me/ratings/artists/123"),
        ("DELETE", "/v1/me/ratings/library-artists/r.abc"),
        ("GET", "/v1/me/ratings/song?ids=123"),
    ],
)
def test_artists_have_no_ratings(
    start_emulator: Callable[..., AppleMusicEmulator], method: str, path: str
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    body = {"type": "rating", "attributes": {"value": 1}} if method == "PUT" else None
    error = _error(support.request(emulator, method, path, json=body))
    assert (error["code"], error["title"]) == ("40008", "Invalid Path Value")


# -- real libraries -----------------------------------------------------------------------------


def test_songs_without_play_params_are_listed_unlinked(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    missing = emulator.songs_without_play_params()
    assert len(missing) == (300 - 300 // 20) // 40  # every 40th song that is not an upload
    songs = {
        s["id"]: s for page in _page(emulator, "/v1/me/library/songs", 100, include="catalog") for s in page
    }
    for song_id in missing:
        song = songs[song_id]
        assert "playParams" not in song["attributes"]
        assert song["relationships"]["catalog"]["data"] == []
    assert any(
        "artistName" not in songs[i]["attributes"] or "albumName" not in songs[i]["attributes"]
        for i in missing
    )
    assert all("playParams" in s["attributes"] for i, s in songs.items() if i not in missing)
    assert not set(missing) & set(emulator.library_ids("songs").values())


@pytest.mark.parametrize("kind", ["albums", "songs", "music-videos"])
def test_withdrawn_ids_are_listed_but_the_catalog_no_longer_resolves_them(
    start_emulator: Callable[..., AppleMusicEmulator], kind: str
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    withdrawn = emulator.withdrawn_ids(kind)
    assert withdrawn
    listed = [i for page in _page(emulator, f"/v1/me/library/{kind}", 100, include="catalog") for i in page]
    linked = {
        i["relationships"]["catalog"]["data"][0]["id"]
        for i in listed
        if i["relationships"]["catalog"]["data"]
    }
    assert set(withdrawn) <= linked
    if kind != "albums":  # a library album's playParams name no catalog id
        named = {
            i["attributes"]["playParams"].get("catalogId") for i in listed if "playParams" in i["attributes"]
        }
        assert set(withdrawn) <= named
    good = emulator.catalog_ids(kind, in_library=True)[:3]
    asked = [withdrawn[0], *good, *withdrawn[1:]]
    fetched = support.get(emulator, f"/v1/catalog/us/{kind}", ids=",".join(asked), relate="library")
    assert fetched.status_code == 200 and [r["id"] for r in fetched.json()["data"]] == good
    assert _error(support.get(emulator, f"/v1/catalog/us/{kind}/{withdrawn[0]}"), 404)["code"] == "40400"
    assert support.get(emulator, f"/v1/catalog/us/{kind}/{good[0]}").json()["data"][0]["id"] == good[0]
    assert not set(withdrawn) & set(emulator.catalog_ids(kind, in_library=True))


# -- the rate limit per developer team ------------------------------------------------------------


def _burst(emulator: AppleMusicEmulator, tokens: list[str]) -> list[int]:
    """One request per token, back to back on one connection: their statuses."""
    with requests.Session() as session:
        return [
            session.get(
                emulator.url + "/v1/storefronts/us", headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).status_code
            for token in tokens
        ]


def test_two_keys_of_one_team_share_its_rate_limit(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(albums=5, rate_limit=5)
    second = emulator.add_developer_key()
    assert second["login"] == emulator.team_id and second["extra"]["key_id"] != emulator.key_id
    own, other = support.developer_token(emulator), support.key_token(emulator, second)
    # ten requests well within one second, the two keys alternating: five accepted in all
    statuses = _burst(emulator, [own, other] * 5)
    assert statuses == [200] * 5 + [429] * 5
    assert emulator.stats.throttled_by_team == {emulator.team_id: 5}


def test_another_team_has_a_limit_of_its_own(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(albums=5, rate_limit=5)
    team_b = emulator.add_developer_key("TEAMB12345")
    assert team_b["login"] == "TEAMB12345"
    own, other = support.developer_token(emulator), support.key_token(emulator, team_b)
    statuses = _burst(emulator, [own, other] * 8)
    assert statuses[0::2] == [200] * 5 + [429] * 3  # team A: five accepted
    assert statuses[1::2] == [200] * 5 + [429] * 3  # team B: five of its own
    assert emulator.stats.throttled_by_team == {emulator.team_id: 3, "TEAMB12345": 3}
    assert emulator.stats.statuses[429] == 6


def test_added_keys_are_checked_like_the_emulators_own(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    team_c = emulator.add_developer_key("TEAMC12345")
    assert len(team_c["extra"]["key_id"]) == 10 and team_c["password"] != emulator.private_key_pem
    assert team_c["extra"]["music_user_token"] == emulator.user_token
    assert (
        support.get(emulator, "/v1/me/storefront", token=support.key_token(emulator, team_c)).status_code
        == 200
    )
    # the key's own team only: another team's iss, or the key under another kid, is refused
    wrong_team = support.developer_token(emulator, key=team_c["password"], kid=team_c["extra"]["key_id"])
    assert support.get(emulator, "/v1/me/storefront", token=wrong_team).status_code == 401
    wrong_kid = support.developer_token(emulator, key=team_c["password"], claims={"iss": "TEAMC12345"})
    assert support.get(emulator, "/v1/me/storefront", token=wrong_kid).status_code == 401
    with pytest.raises(ValueError, match="team_id must be 10"):
        emulator.add_developer_key("SHORT")
