"""Adding catalog resources and finding them in the library."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook


def test_added_items_appear_after_the_delay(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, add_delay=0.5)
    album, song = emulator.catalog_ids("albums")[0], emulator.catalog_ids("songs")[0]
    playlist = emulator.catalog_ids("playlists")[0]
    hook = AppleMusicHook()
    hook.add_to_library({"albums": [album], "songs": song, "playlists": [playlist]})
    wanted = {"albums": [album], "songs": [song], "playlists": [playlist]}
    assert hook.find_in_library(wanted) == {
        "albums": {album: None},
        "songs": {song: None},
        "playlists": {playlist: None},
    }
    time.sleep(0.6)
    found = hook.find_in_library(wanted)
    assert found["albums"][album] == emulator.library_ids("albums")[album]
    assert found["albums"][album].startswith("l.")
    assert found["songs"][song] == emulator.library_ids("songs")[song]
    assert found["playlists"][playlist] == emulator.library_ids("playlists")[playlist]
    assert emulator.stats.posts == 1


def test_unknown_catalog_ids_are_absent_from_the_result(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20)
    owned = emulator.catalog_ids("albums", in_library=True)[0]
    found = AppleMusicHook().find_in_library({"albums": [owned, "999999999999"]})
    assert found == {"albums": {owned: emulator.library_ids()[owned]}}


def test_many_ids_are_batched_100_per_request(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20)
    ids = [str(1000000000 + n) for n in range(250)]
    hook = AppleMusicHook()
    hook.add_to_library({"albums": ids, "songs": ids[:120]})
    assert emulator.stats.posts == 3
    emulator.reset_stats()
    hook.find_in_library({"albums": ids}, storefront="us")
    assert emulator.stats.paths["/v1/catalog/us/albums"] == 3


def test_duplicates_are_sent_once(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, add_delay=0)
    album = emulator.catalog_ids("albums")[0]
    AppleMusicHook().add_to_library({"albums": f"{album},{album}, {album}"})
    assert emulator.stats.posts == 1
    assert album in emulator.library_ids()


def test_storefront_comes_from_the_connection_first(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator(albums=20)
    fields = emulator.connection_dict()
    fields["extra"]["storefront"] = "gb"
    set_connection(**fields)
    AppleMusicHook().find_in_library({"albums": emulator.catalog_ids("albums")[:1]})
    assert emulator.stats.paths["/v1/catalog/gb/albums"] == 1
    assert emulator.stats.paths["/v1/me/storefront"] == 0


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ({}, "holds no catalog ids"),
        ({"podcasts": ["1"]}, "unknown resource type 'podcasts'"),
        ({"albums": ["l.abc"]}, "malformed catalog id 'l.abc'"),
        ({"playlists": ["12345"]}, "malformed catalog id '12345'"),
        ({"albums": "1" * 1_000_000}, "malformed catalog id"),
        ({"albums": [None]}, "not a string id"),
        (["1"], "must be a mapping"),
    ],
)
def test_bad_ids_are_refused_before_any_request(start_emulator: Any, ids: Any, message: str) -> None:
    emulator = start_emulator(albums=5)
    hook = AppleMusicHook()
    with pytest.raises(AppleMusicConfigError, match=message):
        hook.add_to_library(ids)
    with pytest.raises(AppleMusicConfigError, match=message):
        hook.find_in_library(ids)
    assert emulator.stats.requests == 0
