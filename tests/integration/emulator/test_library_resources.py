"""Every library listing of the emulator (songs, artists, playlists, tracks, music videos) over real HTTP."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.emulator.collection import sort_key
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

TOP_LEVEL = {
    "library-albums": "/v1/me/library/albums",
    "library-songs": "/v1/me/library/songs",
    "library-artists": "/v1/me/library/artists",
    "library-playlists": "/v1/me/library/playlists",
    "library-music-videos": "/v1/me/library/music-videos",
}
PREFIXES = {
    "library-albums": "l.",
    "library-songs": "i.",
    "library-artists": "r.",
    "library-playlists": "p.",
    "library-music-videos": "i.",
    "library-playlist-tracks": "i.",
}
TRACKS = "library-playlist-tracks"
ALL = (*TOP_LEVEL, TRACKS)
#: the listings whose items carry dateAdded (with extend=dateAdded): never music videos
DATED = ("library-albums", "library-songs", "library-artists", "library-playlists")
#: the emulator the module's tests share (``start_emulator(shared=True, ...)``)
SHARED: dict[str, Any] = {
    "albums": 130,
    "songs": 240,
    "artists": 130,
    "playlists": 40,
    "music_videos": 120,
    "playlist_tracks": 40,
    "hidden_every": 9,
    "seed": 5,
}


def _longest_playlist(emulator: AppleMusicEmulator) -> str:
    return max(
        emulator.playlist_ids(with_tracks=True),
        key=lambda p: len(emulator.library_items(TRACKS, parent_id=p)),
    )


def _path(emulator: AppleMusicEmulator, resource: str) -> tuple[str, str | None]:
    if resource == TRACKS:
        parent = _longest_playlist(emulator)
        return f"/v1/me/library/playlists/{parent}/tracks", parent
    return TOP_LEVEL[resource], None


def _page_all(
    emulator: AppleMusicEmulator, path: str, limit: int, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow ``next`` to the end, re-applying ``limit`` and ``params``; checks what ``next`` carries."""
    items: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    offset = 0
    while True:
        response = support.get(emulator, path, limit=limit, offset=offset, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        items += body["data"]
        if "next" not in body:
            return items, bodies
        following = urlsplit(body["next"])
        # next keeps the path and carries only the offset: limit, include, extend and l dropped
        assert following.path == path
        assert parse_qs(following.query) == {"offset": [str(offset + limit)]}
        offset += limit


@pytest.mark.parametrize("resource", ALL)
def test_paging_by_next_gives_the_visible_items_in_order(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    path, parent = _path(emulator, resource)
    items, bodies = _page_all(emulator, path, 10, include="catalog", extend="dateAdded", l="en-US")
    expected = emulator.library_items(resource, parent_id=parent, include_catalog=True)
    assert items == expected
    assert len(items) > 10
    if resource != TRACKS:  # a playlist may hold a song at several positions
        assert len({i["id"] for i in items}) == len(items)
    assert all(i["id"].startswith(PREFIXES[resource]) for i in items)
    assert {i["type"] for i in items} == {"library-songs" if resource == TRACKS else resource}
    # hidden entries: a short page while next is present, and a total counting them
    assert any(len(b["data"]) < 10 and "next" in b for b in bodies)
    assert bodies[0]["meta"]["total"] > len(items)
    keys = [sort_key(i["attributes"]["name"], i["id"]) for i in items]
    if resource == TRACKS:
        assert keys != sorted(keys)  # playlist order, not alphabetical
    else:
        assert keys == sorted(keys)


@pytest.mark.parametrize("resource", ALL)
def test_next_without_limit_falls_back_to_25(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    path, _ = _path(emulator, resource)
    first = support.get(emulator, path, limit=5, include="catalog", extend="dateAdded").json()
    assert urlsplit(first["next"]).query == "offset=5"
    following = support.get(emulator, first["next"])  # verbatim: limit, include and extend are gone
    assert following.status_code == 200
    body = following.json()
    assert body["next"].endswith("offset=30")
    assert all("relationships" not in i and "dateAdded" not in i["attributes"] for i in body["data"])


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize(("name", "value"), [("limit", "101"), ("limit", "0"), ("offset", "-1")])
def test_bad_paging_parameters_get_400_naming_them(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str, name: str, value: str
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    path, _ = _path(emulator, resource)
    response = support.get(emulator, path, **{name: value})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["source"]["parameter"], error["code"]) == (name, "40005")
    assert support.get(emulator, path, limit=100).status_code == 200


@pytest.mark.parametrize("resource", ALL)
def test_offset_past_the_end_answers_404(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    path, _ = _path(emulator, resource)
    total = support.get(emulator, path).json()["meta"]["total"]
    response = support.get(emulator, path, offset=total)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "40400"


@pytest.mark.parametrize("resource", [*TOP_LEVEL])
def test_empty_collection_answers_404_at_offset_0(resource: str) -> None:
    with AppleMusicEmulator(albums=0, songs=0, artists=0, playlists=0, music_videos=0) as emulator:
        assert emulator.library_items(resource) == []
        response = support.get(emulator, TOP_LEVEL[resource])
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "40400"


def test_playlist_without_tracks_and_unknown_playlist_answer_404(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    empty = emulator.playlist_ids(with_tracks=False)
    full = emulator.playlist_ids(with_tracks=True)
    assert empty and full
    assert sorted(empty + full) == sorted(emulator.playlist_ids())
    for playlist in empty:
        assert emulator.library_items(TRACKS, parent_id=playlist) == []
        response = support.get(emulator, f"/v1/me/library/playlists/{playlist}/tracks")
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "40400"
    assert support.get(emulator, f"/v1/me/library/playlists/{full[0]}/tracks").status_code == 200
    assert support.get(emulator, "/v1/me/library/playlists/p.nothere/tracks").status_code == 404
    with pytest.raises(ValueError, match="no library playlist"):
        emulator.library_items(TRACKS, parent_id="p.nothere")


@pytest.mark.parametrize("resource", ALL)
def test_date_added_comes_only_with_extend(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    path, parent = _path(emulator, resource)
    plain = support.get(emulator, path, limit=100).json()["data"]
    extended = support.get(emulator, path, limit=100, extend="dateAdded").json()["data"]
    assert [i["id"] for i in plain] == [i["id"] for i in extended]
    assert not any("dateAdded" in i["attributes"] for i in plain)
    dated = [i["attributes"]["dateAdded"] for i in extended if "dateAdded" in i["attributes"]]
    if resource in DATED or resource == TRACKS:
        assert dated and len(dated) < len(extended)  # very old items have none
        assert any(len(d) == 10 for d in dated) and any(d.endswith("Z") for d in dated)
    else:
        assert dated == []
    assert plain == emulator.library_items(resource, extend=(), parent_id=parent)[: len(plain)]


def test_uploaded_songs_have_no_catalog_song(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    songs, _ = _page_all(emulator, "/v1/me/library/songs", 100, include="catalog")
    with_play_params = [s for s in songs if "playParams" in s["attributes"]]
    uploads = [s for s in with_play_params if "catalogId" not in s["attributes"]["playParams"]]
    linked = [s for s in with_play_params if "catalogId" in s["attributes"]["playParams"]]
    assert 0 < len(uploads) <= len(songs) // 10  # about 5 %
    assert all(s["relationships"]["catalog"]["data"] == [] for s in uploads)
    for song in linked:
        (catalog,) = song["relationships"]["catalog"]["data"]
        assert (catalog["type"], catalog["id"]) == ("songs", song["attributes"]["playParams"]["catalogId"])
    attributes = linked[0]["attributes"]
    assert {"name", "artistName", "albumName", "durationInMillis", "trackNumber", "genreNames"} <= set(
        attributes
    )
    assert attributes["playParams"]["kind"] == "song" and attributes["playParams"]["isLibrary"] is True


def test_only_playlists_the_app_created_can_edit(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    playlists, _ = _page_all(emulator, "/v1/me/library/playlists", 100, include="catalog")
    editable = [p for p in playlists if p["attributes"]["canEdit"]]
    others = [p for p in playlists if not p["attributes"]["canEdit"]]
    assert editable and len(others) > len(editable)
    assert all(p["relationships"]["catalog"]["data"] == [] for p in editable)
    assert all(p["relationships"]["catalog"]["data"][0]["type"] == "playlists" for p in others)
    assert any("description" in p["attributes"] for p in playlists)
    assert any("description" not in p["attributes"] for p in playlists)


def test_artists_and_music_videos_attributes(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    artists = emulator.library_items("library-artists", include_catalog=True)
    assert all(set(a["attributes"]) <= {"name", "dateAdded"} and "relationships" not in a for a in artists)
    videos = emulator.library_items("library-music-videos", include_catalog=True)
    assert all({"name", "artistName"} <= set(v["attributes"]) for v in videos)
    assert all(v["relationships"]["catalog"]["data"][0]["type"] == "music-videos" for v in videos)


@pytest.mark.parametrize("kind", ["songs", "playlists", "music-videos"])
def test_in_library_matches_the_listing(start_emulator: Callable[..., AppleMusicEmulator], kind: str) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    listing = emulator.library_items(f"library-{kind}", include_catalog=True)
    linked = {
        i["relationships"]["catalog"]["data"][0]["id"]: i["id"]
        for i in listing
        if i["relationships"]["catalog"]["data"]
    }
    owned = emulator.library_ids(kind)
    assert linked and linked.items() <= owned.items()
    # hidden items are in in_library too: compare with every item the listing holds
    library = emulator._account(0).library
    every = library.collections[f"library-{kind}"].items.values()
    assert owned == {i.catalog_id: i.library_id for i in every if i.catalog_id is not None}
    # catalog ids the catalog no longer resolves are in the library, not in the catalog's ids
    withdrawn = library.catalog.withdrawn[kind]
    assert kind == "playlists" or withdrawn
    assert set(emulator.catalog_ids(kind, in_library=True)) == set(owned) - withdrawn
    assert not set(emulator.catalog_ids(kind)) & set(owned)


def test_added_songs_playlists_and_videos_appear_in_their_listings() -> None:
    with AppleMusicEmulator(albums=3, add_delay=0.3) as emulator:
        wanted = {kind: emulator.catalog_ids(kind)[0] for kind in ("songs", "playlists", "music-videos")}
        response = support.post(
            emulator,
            "/v1/me/library",
            params={f"ids[{kind}]": catalog_id for kind, catalog_id in wanted.items()},
        )
        assert response.status_code == 202
        for kind, catalog_id in wanted.items():
            assert catalog_id not in emulator.library_ids(kind)
        time.sleep(0.35)
        for kind, catalog_id in wanted.items():
            library_id = emulator.library_ids(kind)[catalog_id]
            listed, _ = _page_all(emulator, f"/v1/me/library/{kind}", 100, include="catalog")
            assert library_id in {i["id"] for i in listed}
            related = support.get(emulator, f"/v1/catalog/us/{kind}", ids=catalog_id, relate="library").json()
            assert related["data"][0]["relationships"]["library"]["data"][0]["id"] == library_id


@pytest.mark.parametrize("resource", ALL)
def test_change_every_changes_only_the_listing_being_paged(resource: str) -> None:
    with AppleMusicEmulator(
        albums=60, songs=80, artists=60, playlists=60, music_videos=60, playlist_tracks=30, change_every=2
    ) as emulator:
        path, parent = _path(emulator, resource)
        before = {r: [i["id"] for i in emulator.library_items(r)] for r in TOP_LEVEL}
        tracks_before = [
            i["id"] for i in emulator.library_items(TRACKS, parent_id=parent or _longest_playlist(emulator))
        ]
        for offset in (0, 5, 10, 15):
            assert support.get(emulator, path, limit=5, offset=offset).status_code == 200
        after = {r: [i["id"] for i in emulator.library_items(r)] for r in TOP_LEVEL}
        for other in TOP_LEVEL:
            if other == resource:
                assert set(after[other]) != set(before[other])
                assert len(set(after[other]) - set(before[other])) == 2  # two pages of four: two changes
            else:
                assert after[other] == before[other]
        if resource == TRACKS:
            tracks_after = [i["id"] for i in emulator.library_items(TRACKS, parent_id=parent)]
            assert tracks_after != tracks_before


@pytest.mark.parametrize("resource", ALL)
def test_change_library_adds_and_removes_in_that_listing(resource: str) -> None:
    with AppleMusicEmulator(albums=20, songs=40, playlist_tracks=10) as emulator:
        parent = _longest_playlist(emulator) if resource == TRACKS else None
        before = {i["id"] for i in emulator.library_items(resource, parent_id=parent)}
        albums = emulator.library()
        added, removed = emulator.change_library(add=2, remove=1, resource=resource, parent_id=parent)
        after = {i["id"] for i in emulator.library_items(resource, parent_id=parent)}
        assert len(added) == 2 and len(removed) == 1
        assert set(added) <= after and not set(added) & before
        assert set(removed) <= before and not set(removed) & after
        if resource != "library-albums":
            assert emulator.library() == albums


def test_removed_song_leaves_its_playlists() -> None:
    with AppleMusicEmulator(albums=3, songs=30, playlist_tracks=20) as emulator:
        playlist = _longest_playlist(emulator)
        song = emulator.library_items(TRACKS, parent_id=playlist)[0]["id"]
        songs = {i["id"] for i in emulator.library_items("library-songs")}
        assert song in songs
        while song in songs:
            emulator.change_library(add=0, remove=1, resource="library-songs")
            songs = {i["id"] for i in emulator.library_items("library-songs")}
        assert song not in {i["id"] for i in emulator.library_items(TRACKS, parent_id=playlist)}


@pytest.mark.parametrize("resource", ALL)
def test_truncation_and_injected_faults_hit_every_listing(resource: str) -> None:
    with AppleMusicEmulator(
        albums=40, songs=40, artists=40, playlists=40, music_videos=40, playlist_tracks=30, truncate_every=2
    ) as emulator:
        path, _ = _path(emulator, resource)
        assert support.get(emulator, path, limit=5, offset=5).status_code == 200
        truncated = support.get(emulator, path, limit=5, offset=5)
        assert truncated.status_code == 404 and truncated.json()["errors"][0]["code"] == "40400"
        assert support.get(emulator, path, limit=5, offset=5).status_code == 200  # transient
        assert support.get(emulator, path, limit=5, offset=0).status_code == 200  # never at offset 0
        emulator.inject("500", path_prefix=path, offset=0)
        failed = support.get(emulator, path, limit=5)
        assert failed.status_code == 500 and failed.json()["errors"][0]["code"] == "50001"
        assert support.get(emulator, path, limit=5).status_code == 200


@pytest.mark.parametrize("resource", ALL)
def test_subscription_and_user_token_are_checked_on_every_listing(resource: str) -> None:
    with AppleMusicEmulator(albums=3, no_subscription=True) as emulator:
        path, _ = _path(emulator, resource)
        refused = support.get(emulator, path)
        assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "40015"
        anonymous = support.get(emulator, path, user_token=None)
        assert anonymous.status_code == 403 and anonymous.json()["errors"][0]["code"] == "40300"


def test_stats_record_each_listing_request(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    emulator.reset_stats()
    playlist = emulator.playlist_ids(with_tracks=True)[0]
    support.get(emulator, "/v1/me/library/songs", offset=25, extend="dateAdded")
    support.get(emulator, "/v1/me/library/artists")
    support.get(emulator, f"/v1/me/library/playlists/{playlist}/tracks")
    assert emulator.stats.library_pages == [(25, "dateAdded"), (0, None), (0, None)]
    assert emulator.stats.listing_paths == {
        "/v1/me/library/songs": 1,
        "/v1/me/library/artists": 1,
        f"/v1/me/library/playlists/{playlist}/tracks": 1,
    }


def test_single_playlist_fetch_includes_its_tracks(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    playlist = _longest_playlist(emulator)
    body = support.get(emulator, f"/v1/me/library/playlists/{playlist}", include="tracks").json()
    relationship = body["data"][0]["relationships"]["tracks"]
    # the first 100 positions inline (hidden ones left out), like the first page of the listing
    first_page = support.get(emulator, f"/v1/me/library/playlists/{playlist}/tracks", limit=100).json()
    assert [t["id"] for t in relationship["data"]] == [t["id"] for t in first_page["data"]]
    assert relationship["meta"]["total"] == first_page["meta"]["total"]
    assert ("next" in relationship) == (first_page["meta"]["total"] > 100)


def test_albums_face_is_the_generic_listing(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    assert emulator.library() == emulator.library_items("library-albums")
    assert emulator.library(extend=()) == emulator.library_items("library-albums", extend=())


def test_reader_helpers_refuse_unknown_resources(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    with pytest.raises(ValueError, match="resource must be one of"):
        emulator.library_items("library-podcasts")
    with pytest.raises(ValueError, match="resource must be one of"):
        emulator.change_library(resource="albums")
