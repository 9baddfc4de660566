"""RecentlyPlayedTrigger on a real event loop against the emulator (a dict as the asset state store)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.triggers.recently_played import RecentlyPlayedTrigger
from tests.integration.triggers.test_library_changed import Running, StateStore

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

PLAYED = "recently-played-tracks"


def _watcher(store: StateStore) -> RecentlyPlayedTrigger:
    trigger = RecentlyPlayedTrigger(poll_interval=1)
    trigger.asset_state_store = store  # type: ignore[attr-defined]
    return trigger


def test_serialize_round_trips_and_holds_no_secret(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    trigger = RecentlyPlayedTrigger(poll_interval=30)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_applemusic.triggers.recently_played.RecentlyPlayedTrigger"
    assert kwargs == {"apple_music_conn_id": "apple_music_default", "poll_interval": 30.0}
    assert RecentlyPlayedTrigger(**kwargs).serialize() == (path, kwargs)
    assert emulator.user_token not in json.dumps(kwargs)


async def test_fires_once_per_burst_of_plays_and_not_for_an_older_order(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=20, songs=200, history=20)
    history = [(e["type"], e["id"]) for e in emulator.library_items(PLAYED, extend=())]
    store = StateStore()
    events = Running(_watcher(store))
    assert await events.events(2.5) == []  # a baseline, then quiet polls
    await asyncio.to_thread(emulator.play, *history[1])  # a replay
    event = await events.next_event()
    assert event["new_plays"] == 1 and event["played"] == [f"{history[1][0]}:{history[1][1]}"]
    secrets = (emulator.user_token, AppleMusicHook().get_developer_token(), "PRIVATE KEY")
    assert not any(secret in json.dumps(event) for secret in secrets)
    assert await events.events(2.5) == []  # once, not once per poll
    await asyncio.to_thread(emulator.play, *history[0])  # the baseline's order again: older
    assert await events.events(1.5) == []
    await events.stop()


async def test_a_restart_fires_for_plays_made_while_down_and_not_again(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=20, songs=200, history=20)
    history = [(e["type"], e["id"]) for e in emulator.library_items(PLAYED, extend=())]
    store = StateStore()
    first = Running(_watcher(store))
    await first.events(1.5)
    await first.stop()
    await asyncio.to_thread(emulator.play, *history[-1])
    second = Running(_watcher(store))
    event = await second.next_event()
    assert event["new_plays"] == 1
    await asyncio.sleep(1.5)  # the next poll saves the list
    await second.stop()
    third = Running(_watcher(store))
    assert await third.events(2.5) == []
    await third.stop()
