"""LibraryItemsTrigger on a real event loop, against the emulator over real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from airflow_provider_applemusic.transport.clients import open_clients
from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger
from airflow_provider_applemusic.triggers.presence_registry import presence_registry


async def _first_event(trigger: LibraryItemsTrigger, limit: float = 30) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(first(), timeout=limit)


def _add(emulator: Any, ids: dict[str, list[str]]) -> None:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    AppleMusicHook().add_to_library(ids)


def test_serialize_round_trips_and_holds_no_secret(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    trigger = LibraryItemsTrigger(
        ids={"albums": "1,2", "songs": ["3"]}, storefront="us", poll_interval=2, deadline=123.5
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_applemusic.triggers.library_items.LibraryItemsTrigger"
    again = LibraryItemsTrigger(**kwargs)
    assert again.serialize() == (path, kwargs)
    assert kwargs["ids"] == {"albums": ["1", "2"], "songs": ["3"]}
    text = json.dumps(kwargs)
    assert emulator.user_token not in text and "PRIVATE KEY" not in text


async def test_succeeds_once_added_items_appear(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, add_delay=1.0)
    album, song = emulator.catalog_ids("albums")[0], emulator.catalog_ids("songs")[0]
    wanted = {"albums": [album], "songs": [song]}
    await asyncio.to_thread(_add, emulator, wanted)
    event = await _first_event(LibraryItemsTrigger(ids=wanted, poll_interval=0.2, deadline=time.time() + 20))
    assert event == {
        "status": "success",
        "found": {
            "albums": {album: emulator.library_ids("albums")[album]},
            "songs": {song: emulator.library_ids("songs")[song]},
        },
    }


@pytest.mark.parametrize("fault", ["429", "500", "drop"])
async def test_faults_during_polls_still_succeed(start_emulator: Any, fault: str) -> None:
    emulator = start_emulator(albums=10, add_delay=0.5)
    album = emulator.catalog_ids("albums")[0]
    await asyncio.to_thread(_add, emulator, {"albums": [album]})
    emulator.inject(fault, count=5, path_prefix="/v1/catalog")
    event = await _first_event(
        LibraryItemsTrigger(ids={"albums": [album]}, poll_interval=0.2, deadline=time.time() + 30)
    )
    assert event["status"] == "success"
    assert event["found"]["albums"][album] == emulator.library_ids()[album]


async def test_refused_user_token_yields_an_error_event(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    emulator.revoke_user_token()
    event = await _first_event(
        LibraryItemsTrigger(
            ids={"albums": ["123"]}, storefront="us", poll_interval=0.2, deadline=time.time() + 30
        )
    )
    assert event["status"] == "error" and "fatal" not in event
    assert "Music User Token was refused (403)" in event["message"]
    assert emulator.user_token not in event["message"]
    assert emulator.stats.requests == 1


async def test_deadline_yields_timeout_naming_missing_ids(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    owned = emulator.catalog_ids("albums", in_library=True)[0]
    started = time.monotonic()
    event = await _first_event(
        LibraryItemsTrigger(
            ids={"albums": [owned, "999999999"]}, poll_interval=0.3, deadline=time.time() + 1.0
        )
    )
    assert event == {"status": "timeout", "missing": {"albums": ["999999999"]}}
    assert time.monotonic() - started < 5


async def test_cancelling_the_last_trigger_ends_its_group_and_gives_the_client_back(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=10)
    trigger = LibraryItemsTrigger(ids={"albums": ["999999999"]}, poll_interval=30, deadline=time.time() + 60)
    task = asyncio.ensure_future(_first_event(trigger))
    while emulator.stats.paths["/v1/catalog/us/albums"] < 1:
        await asyncio.sleep(0.02)
    group = presence_registry().groups[("apple_music_default", None)]
    client = group.hook._client
    assert client is not None and not client.is_closed and open_clients() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while open_clients():
        await asyncio.sleep(0.01)
    assert client.is_closed and not presence_registry().groups


async def test_playlist_form_polls_on_its_own_until_the_playlist_appears(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, playlist_delay=1.0)
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    created = await asyncio.to_thread(AppleMusicHook().create_library_playlist, "Road trip")
    event = await _first_event(
        LibraryItemsTrigger(playlist_id=created["id"], poll_interval=0.2, deadline=time.time() + 20)
    )
    assert event == {"status": "success", "found": {"playlists": {created["id"]: created["id"]}}}
    assert emulator.stats.paths[f"/v1/me/library/playlists/{created['id']}"] >= 2
    assert not presence_registry().groups


async def test_playlist_form_times_out_naming_the_playlist_and_gives_its_client_back(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=5)
    trigger = LibraryItemsTrigger(playlist_id="p.Never", poll_interval=0.05, deadline=time.time() + 0.5)
    assert await _first_event(trigger, limit=10) == {
        "status": "timeout",
        "missing": {"playlists": ["p.Never"]},
    }
    assert emulator.stats.paths["/v1/me/library/playlists/p.Never"] >= 3
    assert open_clients() == 0


async def test_playlist_form_counts_a_failed_poll_as_not_yet(
    start_emulator: Any, set_connection: Any
) -> None:
    emulator = start_emulator(albums=5, playlist_delay=0.3)
    fields = emulator.connection_dict()
    fields["extra"].update(max_attempts=1)  # the poll fails at once, not after retries
    set_connection(**fields)
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    created = await asyncio.to_thread(AppleMusicHook().create_library_playlist, "Road trip")
    path = f"/v1/me/library/playlists/{created['id']}"
    emulator.inject("429", count=1, path_prefix=path)
    trigger = LibraryItemsTrigger(playlist_id=created["id"], poll_interval=0.05, deadline=time.time() + 30)
    assert await _first_event(trigger, limit=20) == {
        "status": "success",
        "found": {"playlists": {created["id"]: created["id"]}},
    }
    assert emulator.stats.statuses[429] == 1 and emulator.stats.paths[path] >= 2
    assert open_clients() == 0


async def test_playlist_form_ends_with_an_error_that_waiting_cannot_cure(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, user_token_refusal=403)
    emulator.revoke_user_token()
    trigger = LibraryItemsTrigger(playlist_id="p.New", poll_interval=0.05, deadline=time.time() + 30)
    event = await _first_event(trigger, limit=10)
    assert event["status"] == "error" and "fatal" not in event
    assert "the Music User Token was refused (403)" in event["message"]
    assert emulator.user_token not in event["message"]
    assert emulator.stats.paths["/v1/me/library/playlists/p.New"] == 1
    assert open_clients() == 0
