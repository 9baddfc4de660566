"""
LibraryChangedTrigger on a real event loop against the emulator.

The asset state store here is a dict behind the accessor's async interface (``aget``/``aset``);
the triggerer's real one is exercised by the deployment tier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.triggers.library_changed import LibraryChangedTrigger

if TYPE_CHECKING:
    import pytest

    from airflow_provider_applemusic.emulator import AppleMusicEmulator


class StateStore:
    """The watched asset's state store as the triggerer hands it over: async get and set."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)  # JSON only, like the real store


def _watcher(store: StateStore | None, **kwargs: Any) -> LibraryChangedTrigger:
    trigger = LibraryChangedTrigger(poll_interval=1, **kwargs)
    if store is not None:
        trigger.asset_state_store = store  # type: ignore[attr-defined]
    return trigger


class Running:
    """A trigger running on the loop as the triggerer runs it; its events arrive in a queue."""

    def __init__(self, trigger: LibraryChangedTrigger) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(trigger))

    async def _pump(self, trigger: LibraryChangedTrigger) -> None:
        async for event in trigger.run():
            await self.queue.put(event.payload)

    async def events(self, seconds: float) -> list[dict[str, Any]]:
        """The events yielded within ``seconds``."""
        await asyncio.sleep(seconds)
        seen = []
        while not self.queue.empty():
            seen.append(self.queue.get_nowait())
        return seen

    async def next_event(self, seconds: float = 15) -> dict[str, Any]:
        return await asyncio.wait_for(self.queue.get(), timeout=seconds)

    async def stop(self) -> None:
        """Cancel it, as a stopping triggerer does."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def test_serialize_round_trips_and_holds_no_secret(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    trigger = LibraryChangedTrigger(resources=["library-songs", "library-albums"], poll_interval=30)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_applemusic.triggers.library_changed.LibraryChangedTrigger"
    assert kwargs == {
        "apple_music_conn_id": "apple_music_default",
        "resources": ["library-albums", "library-songs"],
        "poll_interval": 30.0,
    }
    assert LibraryChangedTrigger(**kwargs).serialize() == (path, kwargs)
    assert emulator.user_token not in json.dumps(kwargs)


async def test_fires_once_per_change_with_what_was_seen(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=40, playlists=6)
    store = StateStore()
    events = Running(_watcher(store))
    assert await events.events(3.5) == []  # a baseline, then three quiet polls
    assert len(store.values) == 1
    total = len(emulator.library_items("library-albums"))

    added, _removed = await asyncio.to_thread(emulator.apply_changes, 2, 1)
    event = await events.next_event()

    assert set(event["newly_added"]) == set(added)
    assert event["totals"] == {"library-albums": total + 1}
    assert event["previous_totals"] == {"library-albums": total}
    assert event["newest"][:2] == event["newly_added"]
    secrets = (emulator.user_token, AppleMusicHook().get_developer_token(), "PRIVATE KEY")
    assert not any(secret in json.dumps(event) for secret in secrets)
    assert await events.events(2.5) == []  # fired once, not once per poll
    await events.stop()


async def test_each_poll_is_a_bounded_number_of_small_requests(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=300, songs=300)
    watcher = _watcher(StateStore(), resources=["library-albums", "library-songs"])
    emulator.reset_stats()
    running = Running(watcher)
    await running.events(2.5)  # polls at 0 s, 1 s and 2 s
    await running.stop()
    listing = {path: count for path, count in emulator.stats.paths.items() if path.startswith("/v1/me")}
    assert listing == {
        "/v1/me/library/albums": 3,
        "/v1/me/library/songs": 3,
        "/v1/me/library/recently-added": 3,
    }
    assert set(emulator.stats.page_sizes) == {1, 10}


async def test_songs_alone_need_no_recently_added(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=10, songs=50)
    events = Running(_watcher(StateStore(), resources=["library-songs"]))
    await events.events(1.5)
    assert "/v1/me/library/recently-added" not in emulator.stats.paths

    await asyncio.to_thread(emulator.apply_changes, 0, 1, "library-songs")
    event = await events.next_event()
    assert event["totals"]["library-songs"] == event["previous_totals"]["library-songs"] - 1
    await events.stop()


async def test_a_restart_fires_for_a_change_made_while_down_and_not_again(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=30)
    store = StateStore()
    first = Running(_watcher(store))
    await first.events(1.5)
    await first.stop()  # the triggerer stops
    baseline = dict(store.values)

    await asyncio.to_thread(emulator.apply_changes, 1, 0)  # changed while it was down
    second = Running(_watcher(store))
    event = await second.next_event(5)
    assert len(event["newly_added"]) == 1
    assert store.values == baseline  # saved only after the event went out, before the next poll
    assert await second.events(1.5) == []
    assert store.values != baseline
    await second.stop()

    third = Running(_watcher(store))  # a restart with no change: no event
    assert await third.events(2.5) == []
    await third.stop()


async def test_an_event_not_yet_saved_fires_again_after_a_restart(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=30)
    store = StateStore()
    first = Running(_watcher(store))
    await first.events(1.5)
    await asyncio.to_thread(emulator.apply_changes, 1, 0)
    fired = await first.next_event()
    await first.stop()  # stopped before the next poll: the fingerprint was not saved

    second = Running(_watcher(store))
    again = await second.next_event(5)  # at least once: the same change is delivered again
    assert again["newly_added"] == fired["newly_added"]
    await second.stop()


async def test_a_refused_token_is_logged_once_and_polling_goes_on(
    start_emulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=30)
    events = Running(_watcher(StateStore()))
    await events.events(1.5)
    emulator.revoke_user_token()
    assert await events.events(3.5) == []  # three polls refused
    emulator.revoke_user_token(False)
    await asyncio.to_thread(emulator.apply_changes, 1, 0)
    event = await events.next_event()
    log = capsys.readouterr().out  # the task SDK's structured log goes to stdout
    refusals = [line for line in log.splitlines() if "Cannot watch the library" in line]
    assert len(refusals) == 1, refusals
    assert "Music User Token was refused" in refusals[0]
    assert emulator.user_token not in log
    assert "Polling works again" in log
    assert len(event["newly_added"]) == 1
    await events.stop()


async def test_rate_limits_and_server_errors_are_waited_out(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=30)
    events = Running(_watcher(StateStore()))
    await events.events(1.5)
    emulator.inject("429", count=3, path_prefix="/v1/me/library")
    emulator.inject("500", count=2, path_prefix="/v1/me/library")
    await asyncio.to_thread(emulator.apply_changes, 0, 2)
    event = await events.next_event()
    assert event["totals"]["library-albums"] == event["previous_totals"]["library-albums"] - 2
    assert emulator.stats.statuses[429] == 3 and emulator.stats.statuses[500] == 2
    await events.stop()


async def test_an_empty_library_is_a_fingerprint_too(start_emulator: Any) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=0, playlists=0)
    events = Running(_watcher(StateStore()))
    await events.events(1.5)
    await asyncio.to_thread(emulator.apply_changes, 1, 0)
    event = await events.next_event()
    assert event["previous_totals"] == {"library-albums": 0}
    assert event["totals"] == {"library-albums": 1}
    await events.stop()


async def test_songs_an_account_does_not_list_are_logged_not_taken_for_none(
    start_emulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator: AppleMusicEmulator = start_emulator(albums=30, songs=40, song_listings_missing=True)
    events = Running(_watcher(StateStore(), resources=["library-songs"]))
    assert await events.events(2.5) == []  # no baseline of 0 songs, so no event either
    await events.stop()
    log = capsys.readouterr().out
    refusals = [line for line in log.splitlines() if "Cannot watch the library" in line]
    assert len(refusals) == 1, refusals
    assert "does not serve the library-songs listing" in refusals[0]
    assert "Baseline" not in log
    assert emulator.user_token not in log
