"""The emulator's histories (recently added, recently played tracks, heavy rotation) over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

PATHS = {
    "recently-added": "/v1/me/library/recently-added",
    "recently-played-tracks": "/v1/me/recent/played/tracks",
    "heavy-rotation": "/v1/me/history/heavy-rotation",
    "recently-played": "/v1/me/recent/played",
}
PAGE_MAX = {"recently-added": 25, "recently-played-tracks": 30, "heavy-rotation": 10, "recently-played": 10}
CAPS = {"recently-added": 150, "recently-played-tracks": 50, "heavy-rotation": 20, "recently-played": 50}
HISTORIES = tuple(PATHS)
SIZES: dict[str, Any] = {"albums": 130, "songs": 60, "playlists": 40, "seed": 3}
#: every play of the history: catalog and library songs (music videos come whatever types says)
ALL_PLAYS = ("songs", "library-songs")
#: each test's own emulator: a library large enough that recently-added is capped and holds both
#: albums and playlists
OPTIONS: dict[str, Any] = {**SIZES, "hidden_every": 11, "history": 40, "heavy_rotation": 20}


def _error(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


def _page_all(emulator: AppleMusicEmulator, path: str, limit: int) -> list[dict[str, Any]]:
    """Follow ``next`` to the end, as the service gives it: ``next`` carries only ``offset``."""
    items: list[dict[str, Any]] = []
    target = f"{path}?limit={limit}"
    while True:
        response = support.get(emulator, target)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        if "next" not in body:
            return items
        following = urlsplit(body["next"])
        assert following.path == path and set(parse_qs(following.query)) == {"offset"}
        target = body["next"]


@pytest.mark.parametrize("resource", HISTORIES)
def test_page_maximum_is_enforced_with_400_naming_limit(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    emulator = start_emulator(**OPTIONS)
    path, page_max = PATHS[resource], PAGE_MAX[resource]
    assert len(support.get(emulator, path, limit=page_max).json()["data"]) <= page_max
    refused = support.get(emulator, path, limit=page_max + 1)
    assert refused.status_code == 400
    assert _error(refused)["source"] == {"parameter": "limit"} and _error(refused)["code"] == "40005"
    default = support.get(emulator, path).json()
    assert default["next"] == f"{path}?offset=10"  # default limit 10


@pytest.mark.parametrize("resource", HISTORIES)
def test_paging_by_next_reproduces_library_items(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    # next carries only offset: followed verbatim, the play history drops types (catalog songs)
    emulator = start_emulator(**OPTIONS)
    types = ("songs",) if resource == "recently-played-tracks" else None
    expected = emulator.library_items(resource, extend=(), types=types)
    assert 0 < len(expected) <= CAPS[resource]
    for limit in (PAGE_MAX[resource], 3):
        assert _page_all(emulator, PATHS[resource], limit) == expected


def test_recently_added_is_newest_first_mixed_and_capped(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(**OPTIONS)
    first = support.get(emulator, PATHS["recently-added"], limit=25).json()
    assert first["meta"]["total"] == 150  # the newest 150 of 170 albums and playlists
    items = emulator.library_items("recently-added", extend=("dateAdded",))
    assert {i["type"] for i in items} == {"library-albums", "library-playlists"}
    assert {i["id"][:2] for i in items} == {"l.", "p."}
    days = [i["attributes"]["dateAdded"][:10] for i in items if "dateAdded" in i["attributes"]]
    assert days == sorted(days, reverse=True)
    everything = emulator.library_items("library-albums") + emulator.library_items("library-playlists")
    dated = sorted((i["attributes"].get("dateAdded", "")[:10] for i in everything), reverse=True)
    assert days[-1] >= dated[len(days) + 12]  # nothing much newer was left out
    # the same resources the albums and playlists listings return
    by_id = {i["id"]: i for i in everything}
    assert all(by_id[i["id"]] == i for i in items)


def test_an_added_album_comes_first_in_recently_added(start_emulator: Callable[..., Any]) -> None:
    emulator = start_emulator(albums=30, playlists=5, add_delay=0)
    catalog_id = emulator.catalog_ids("albums")[0]
    hook = AppleMusicHook()
    hook.add_to_library({"albums": [catalog_id]})
    newest = support.get(emulator, PATHS["recently-added"], limit=1).json()["data"][0]
    assert newest["id"] == emulator.library_ids("albums")[catalog_id]


def test_recently_played_mixes_catalog_and_library_songs(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(**OPTIONS)
    items = emulator.library_items("recently-played-tracks", extend=(), types=ALL_PLAYS)
    assert len(items) == 40
    assert len({i["id"] for i in items}) == 40
    catalog = [i for i in items if i["type"] == "songs"]
    library = [i for i in items if i["type"] == "library-songs"]
    videos = [i for i in items if i["type"] == "music-videos"]
    assert catalog and library and len(catalog) + len(library) + len(videos) == len(items)
    assert all(set(video) == {"id", "type", "href"} for video in videos)
    items = catalog + library
    for song in catalog:
        assert song["id"].isdigit()
        assert {"name", "artistName", "albumName", "durationInMillis", "genreNames", "releaseDate"} <= set(
            song["attributes"]
        )
    assert all(song["id"].startswith("i.") for song in library)
    # no play timestamps anywhere
    assert not any("play" in key.lower() and key != "playParams" for i in items for key in i["attributes"])
    assert not any("dateAdded" in i["attributes"] for i in items)


def test_heavy_rotation_lists_catalog_albums_and_playlists(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(**OPTIONS)
    items = emulator.library_items("heavy-rotation")
    assert len(items) == 20
    assert {i["type"] for i in items} == {"albums", "playlists"}
    assert "meta" not in support.get(emulator, PATHS["heavy-rotation"]).json()


def test_play_puts_a_song_at_the_front(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(**OPTIONS)
    catalog_song = emulator.catalog_ids("songs")[-1]
    emulator.play("songs", catalog_song)
    first = support.get(emulator, PATHS["recently-played-tracks"], limit=1).json()["data"][0]
    assert (first["id"], first["type"]) == (catalog_song, "songs")
    library_song = emulator.library_items("library-songs")[0]["id"]
    emulator.play("library-songs", library_song)
    emulator.play("songs", catalog_song)  # played again: moved, not repeated
    ids = [i["id"] for i in emulator.library_items("recently-played-tracks", types=ALL_PLAYS)]
    assert ids[:2] == [catalog_song, library_song] and ids.count(catalog_song) == 1
    with pytest.raises(ValueError, match="no songs"):
        emulator.play("songs", "123")
    with pytest.raises(ValueError, match="kind must be"):
        emulator.play("albums", catalog_song)


@pytest.mark.parametrize("resource", HISTORIES)
def test_empty_history_and_past_the_end_answer_404(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    empty = start_emulator(albums=0, songs=0, playlists=0, history=0, heavy_rotation=0)
    response = support.get(empty, PATHS[resource])
    assert response.status_code == 404 and _error(response)["code"] == "40400"
    full = start_emulator(albums=40, playlists=10)
    past = support.get(full, PATHS[resource], offset=len(full.library_items(resource, types=ALL_PLAYS)))
    assert past.status_code == 404 and _error(past)["code"] == "40400"


@pytest.mark.parametrize("resource", HISTORIES)
def test_truncation_faults_and_tokens_apply(start_emulator: Callable[..., Any], resource: str) -> None:
    emulator = start_emulator(albums=40, playlists=10, truncate_every=2)
    path = PATHS[resource]
    assert support.get(emulator, path, limit=5, offset=5).status_code == 200
    assert support.get(emulator, path, limit=5, offset=5).status_code == 404  # transient truncation
    assert support.get(emulator, path, limit=5, offset=5).status_code == 200
    emulator.inject("503", path_prefix=path, offset=5)
    assert support.get(emulator, path, limit=5, offset=0).status_code == 200
    assert support.get(emulator, path, limit=5, offset=5).status_code == 503
    anonymous = support.get(emulator, path, user_token=None)
    assert anonymous.status_code == 403 and _error(anonymous)["code"] == "40300"
    unsubscribed = start_emulator(albums=3, no_subscription=True)
    refused = support.get(unsubscribed, path)
    assert refused.status_code == 403 and _error(refused)["code"] == "40015"


def test_stats_record_each_history_request(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(**OPTIONS)
    emulator.reset_stats()
    for resource in HISTORIES:
        support.get(emulator, PATHS[resource], offset=10)
    assert emulator.stats.library_pages == [(10, None)] * len(HISTORIES)
    assert emulator.stats.listing_paths == {path: 1 for path in PATHS.values()}


def test_change_library_moves_the_histories(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(**SIZES)  # nothing hidden: what is added shows
    added, removed = emulator.change_library(resource="recently-added")
    items = [i["id"] for i in emulator.library_items("recently-added")]
    assert items[0] == added[0] and removed[0] not in items
    for resource in ("recently-played-tracks", "heavy-rotation", "recently-played"):
        added, removed = emulator.change_library(resource=resource)
        ids = [i["id"] for i in emulator.library_items(resource, types=ALL_PLAYS)]
        assert ids[0] == added[0] and removed[0] not in ids and len(ids) <= CAPS[resource]


@pytest.mark.parametrize("resource", ["recently-added", "recently-played-tracks", "heavy-rotation"])
def test_the_hook_pages_each_history(
    start_emulator: Callable[..., AppleMusicEmulator], resource: str
) -> None:
    # the hook's rows ask for no extended attributes on the histories: compare with extend=();
    # it asks for every play (types=songs,library-songs)
    emulator = start_emulator(**OPTIONS)
    assert list(AppleMusicHook().iter_library(resource)) == emulator.library_items(
        resource, extend=(), types=ALL_PLAYS
    )
