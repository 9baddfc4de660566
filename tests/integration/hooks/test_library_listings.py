"""One paging engine for every library listing: each resource of the table, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.api.resources import LISTING_RESOURCES
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

TOP_LEVEL = [
    name for name, row in LISTING_RESOURCES.items() if row.parent is None and name.startswith("library-")
]
SIZES = {"albums": 260, "songs": 1050, "artists": 240, "playlists": 230, "music_videos": 220}


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


@pytest.mark.parametrize("resource", TOP_LEVEL)
def test_every_visible_item_once_in_order_at_the_page_maximum(start_emulator: Any, resource: str) -> None:
    emulator = start_emulator(hidden_every=7, **SIZES)
    expected = emulator.library_items(resource)
    assert len(expected) > 150
    items = list(AppleMusicHook().iter_library(resource))
    assert items == expected
    assert set(emulator.stats.page_sizes) == {LISTING_RESOURCES[resource].page_max}
    row = LISTING_RESOURCES[resource]
    asked = {extend for _, extend in emulator.stats.library_pages}
    assert asked == ({",".join(row.extended)} if row.extended else {None})
    assert all(item["id"].startswith(row.id_prefix) for item in items)


@pytest.mark.parametrize("resource", TOP_LEVEL)
def test_every_item_present_throughout_comes_once_in_order_while_the_library_changes(
    start_emulator: Any, resource: str
) -> None:
    emulator = start_emulator(change_every=2, **SIZES)
    before = set(_ids(emulator.library_items(resource)))
    got = _ids(list(AppleMusicHook().iter_library(resource, pages_in_flight=3)))
    after_items = emulator.library_items(resource)
    after = set(_ids(after_items))
    assert before != after, "the library did not change while it was paged"
    assert len(got) == len(set(got)), "an item came twice"
    throughout = before & after
    assert throughout <= set(got), "an item present throughout was missed"
    assert set(got) <= before | after
    order = {item_id: index for index, item_id in enumerate(_ids(after_items))}
    positions = [order[i] for i in got if i in throughout]
    assert positions == sorted(positions)


def test_playlist_tracks_are_paged_by_their_own_listing(start_emulator: Any) -> None:
    emulator = start_emulator(playlists=12, playlist_tracks=150)
    hook = AppleMusicHook()
    with_tracks = emulator.playlist_ids(with_tracks=True)
    assert with_tracks
    for playlist_id in with_tracks[:3]:
        # the table asks no extended attribute of playlist tracks
        expected = emulator.library_items("library-playlist-tracks", parent_id=playlist_id, extend=())
        got = list(hook.iter_library("library-playlist-tracks", parent_id=playlist_id, page_size=40))
        assert got == expected


def test_a_playlist_without_tracks_is_an_empty_listing(start_emulator: Any) -> None:
    emulator = start_emulator(playlists=12, playlist_tracks=20)
    empty = emulator.playlist_ids(with_tracks=False)
    assert empty, "the emulator made no playlist without tracks"
    assert list(AppleMusicHook().iter_library("library-playlist-tracks", parent_id=empty[0])) == []
    assert emulator.stats.statuses[404] == 1


def test_pages_in_flight_never_exceed_the_hooks_max_concurrency(start_emulator: Any) -> None:
    emulator = start_emulator(songs=3000, latency_ms=20)
    hook = AppleMusicHook(max_concurrency=3)
    items = list(hook.iter_library("library-songs", pages_in_flight=16))
    assert items == emulator.library_items("library-songs")
    assert emulator.stats.max_in_flight == 3


def test_one_page_of_any_listing(start_emulator: Any) -> None:
    emulator = start_emulator(**SIZES)
    page = AppleMusicHook().get_library_page("library-artists", 100, page_size=50)
    assert _ids(page["data"]) == _ids(emulator.library_items("library-artists")[100:150])
    assert page["next"].endswith("offset=150")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"resource": "library-podcasts"}, "resource must be one of library-albums, library-songs"),
        ({"resource": "library-songs", "page_size": 101}, "page_size must be an integer from 1 to 100"),
        (
            {"resource": "library-songs", "pages_in_flight": 0},
            "pages_in_flight must be an integer from 1 to 64",
        ),
        ({"resource": "library-songs", "extend": ["date added"]}, "extend must be"),
        ({"resource": "library-playlist-tracks"}, "parent_id must be the library id of a playlist"),
        ({"resource": "library-playlist-tracks", "parent_id": "p.x/../y"}, "parent_id must be"),
        ({"resource": "library-albums", "parent_id": "p.AbC"}, "library-albums takes none"),
    ],
)
def test_bad_listing_arguments_are_refused_before_any_request(
    start_emulator: Any, call: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=10)
    resource = call.pop("resource")
    with pytest.raises(AppleMusicConfigError, match=message):
        AppleMusicHook().iter_library(resource, **call)
    assert emulator.stats.requests == 0
