"""The presence registry: many LibraryItemsTriggers on one loop, one look-up a round, over real HTTP."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest

from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger
from airflow_provider_applemusic.triggers.presence_registry import PresenceGroup, presence_registry

DEFAULT_GROUP = ("apple_music_default", None)


async def _first_event(trigger: LibraryItemsTrigger, limit: float = 60) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(first(), timeout=limit)


def _add(ids: dict[str, list[str]]) -> None:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    AppleMusicHook().add_to_library(ids)


async def _group(key: tuple[str, str | None]) -> PresenceGroup:
    """The group once its first member has joined."""
    while key not in presence_registry().groups:
        await asyncio.sleep(0.001)
    return presence_registry().groups[key]


def _trigger(ids: dict[str, list[str]], poll_interval: float = 0.3, **kwargs: Any) -> LibraryItemsTrigger:
    return LibraryItemsTrigger(ids=ids, poll_interval=poll_interval, deadline=time.time() + 60, **kwargs)


async def test_many_triggers_cost_one_batched_lookup_a_round_and_each_gets_its_own_answer(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=400, add_delay=1.5)
    albums, songs = emulator.catalog_ids("albums")[:130], emulator.catalog_ids("songs")[:130]
    await asyncio.to_thread(_add, {"albums": albums, "songs": songs})
    emulator.reset_stats()
    assert len(albums) == len(songs) == 130
    wanted = [{"albums": [album]} for album in albums[:110]]
    wanted += [{"songs": [song]} for song in songs[:110]]
    pairs = zip(albums[110:], songs[110:], strict=True)
    wanted += [{"albums": [album], "songs": [song]} for album, song in pairs]
    tasks = [asyncio.ensure_future(_first_event(_trigger(ids))) for ids in wanted]
    group = await _group(DEFAULT_GROUP)
    events = await asyncio.gather(*tasks)

    library_albums, library_songs = emulator.library_ids("albums"), emulator.library_ids("songs")
    for ids, event in zip(wanted, events, strict=True):
        expected = {
            kind: {cid: (library_albums if kind == "albums" else library_songs)[cid] for cid in values}
            for kind, values in ids.items()
        }
        assert event == {"status": "success", "found": expected}
    assert group.rounds >= 2  # the items appeared after the first rounds
    paths = emulator.stats.paths
    # at most ceil(ids / 100) requests per type a round (the first round may hold fewer members)
    assert group.rounds <= paths["/v1/catalog/us/albums"] <= math.ceil(130 / 100) * group.rounds
    assert group.rounds <= paths["/v1/catalog/us/songs"] <= math.ceil(130 / 100) * group.rounds
    assert paths["/v1/me/storefront"] == 1
    assert emulator.stats.requests == 1 + paths["/v1/catalog/us/albums"] + paths["/v1/catalog/us/songs"]
    assert not presence_registry().groups


async def test_a_trigger_cancelled_mid_round_leaves_the_round_to_the_others(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, latency_ms=600)
    owned = emulator.catalog_ids("albums", in_library=True)[:3]
    triggers = [_trigger({"albums": [cid]}, storefront="us") for cid in owned]
    tasks = [asyncio.ensure_future(_first_event(trigger)) for trigger in triggers]
    while emulator.stats.in_flight < 1:
        await asyncio.sleep(0.01)
    tasks[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]
    events = await asyncio.gather(*tasks[1:])
    library = emulator.library_ids("albums")
    assert events == [{"status": "success", "found": {"albums": {cid: library[cid]}}} for cid in owned[1:]]
    assert emulator.stats.requests == 1  # the round in flight answered both
    assert emulator.stats.dropped == 0


async def test_the_round_runs_at_the_smallest_poll_interval_of_its_members(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, add_delay=1.0)
    album, other = emulator.catalog_ids("albums")[:2]
    await asyncio.to_thread(_add, {"albums": [album, other]})
    started = time.monotonic()
    slow = asyncio.ensure_future(_first_event(_trigger({"albums": [album]}, poll_interval=30)))
    await asyncio.sleep(0.2)  # the slow member's first round has been and gone
    fast = asyncio.ensure_future(_first_event(_trigger({"albums": [other]}, poll_interval=0.2)))
    assert (await slow)["status"] == "success"
    assert (await fast)["status"] == "success"
    assert time.monotonic() - started < 10


async def test_different_connections_and_storefronts_form_separate_groups(
    start_emulator: Any, set_connection: Any
) -> None:
    emulator = start_emulator(albums=10)
    set_connection("apple_music_other", **emulator.connection_dict())
    owned = emulator.catalog_ids("albums", in_library=True)[0]
    unknown = "999999999"
    triggers = [
        _trigger({"albums": [owned, unknown]}, poll_interval=30),
        _trigger({"albums": [owned, unknown]}, poll_interval=30, storefront="us"),
        _trigger({"albums": [owned, unknown]}, poll_interval=30, apple_music_conn_id="apple_music_other"),
    ]
    tasks = [asyncio.ensure_future(_first_event(trigger)) for trigger in triggers]
    while emulator.stats.paths["/v1/catalog/us/albums"] < 3:
        await asyncio.sleep(0.02)
    registry = presence_registry()
    assert set(registry.groups) == {DEFAULT_GROUP, ("apple_music_default", "us"), ("apple_music_other", None)}
    assert all(group.rounds == 1 for group in registry.groups.values())
    assert emulator.stats.paths["/v1/me/storefront"] == 2  # the two groups without a storefront
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_refused_token_ends_every_member_with_an_error_event(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    emulator.revoke_user_token()
    albums = emulator.catalog_ids("albums")[:5]
    events = await asyncio.gather(*(_first_event(_trigger({"albums": [cid]})) for cid in albums))
    for event in events:
        assert event["status"] == "error" and "fatal" not in event
        assert "Music User Token was refused (403)" in event["message"]
        assert emulator.user_token not in event["message"]
    assert emulator.stats.requests == 1  # the group's one storefront request
    assert not presence_registry().groups


async def test_failed_rounds_are_not_yet_for_every_member(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator(albums=10)
    connection = emulator.connection_dict()
    connection["extra"]["max_attempts"] = 1  # every 500 fails its round
    set_connection(**connection)
    owned = emulator.catalog_ids("albums", in_library=True)[:4]
    emulator.inject("500", count=3, path_prefix="/v1/catalog")
    tasks = [
        asyncio.ensure_future(_first_event(_trigger({"albums": [cid]}, poll_interval=0.1, storefront="us")))
        for cid in owned
    ]
    group = await _group(("apple_music_default", "us"))
    events = await asyncio.gather(*tasks)
    assert [event["status"] for event in events] == ["success"] * 4
    assert emulator.stats.statuses[500] == 3 and group.rounds == 4


async def test_each_member_keeps_its_own_deadline(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    owned = emulator.catalog_ids("albums", in_library=True)[0]
    unknown = "999999999"
    short = LibraryItemsTrigger(ids={"albums": [owned, unknown]}, poll_interval=0.3, deadline=time.time() + 1)
    long = LibraryItemsTrigger(ids={"albums": [unknown]}, poll_interval=0.3, deadline=time.time() + 3)
    started = time.monotonic()
    first = asyncio.ensure_future(_first_event(short))
    second = asyncio.ensure_future(_first_event(long))
    assert await first == {"status": "timeout", "missing": {"albums": [unknown]}}
    assert time.monotonic() - started < 2.5
    assert not second.done()
    assert await second == {"status": "timeout", "missing": {"albums": [unknown]}}
