"""LibraryItemsSensor outside a DAG run, against the emulator: timeouts, soft_fail, deferral, playlists."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import (
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor
from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger


def _sensor(**kwargs: Any) -> LibraryItemsSensor:
    kwargs.setdefault("ids", {"albums": ["999999999"]})
    kwargs.setdefault("timeout", 1)
    return LibraryItemsSensor(task_id="wait", poke_interval=0.2, **kwargs)


def test_poke_timeout_names_the_missing_ids(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    owned = emulator.catalog_ids("albums", in_library=True)[0]
    with pytest.raises(AirflowSensorTimeout, match=r"\{'albums': \['999999999'\]\}") as info:
        _sensor(ids={"albums": [owned, "999999999"]}).execute({})  # type: ignore[arg-type]
    assert owned not in str(info.value)
    assert "unknown catalog ids or unavailable in the storefront" in str(info.value)


def test_soft_fail_skips_naming_the_missing_ids(start_emulator: Any) -> None:
    start_emulator(albums=5)
    with pytest.raises(AirflowSkipException, match="999999999"):
        _sensor(soft_fail=True).execute({})  # type: ignore[arg-type]


def test_deferrable_pokes_once_then_defers_with_the_deadline(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    sensor = _sensor(deferrable=True, timeout=120)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})  # type: ignore[arg-type]
    trigger = info.value.trigger
    assert isinstance(trigger, LibraryItemsTrigger)
    assert trigger.ids == {"albums": ["999999999"]}
    assert trigger.poll_interval == 0.2
    assert trigger.deadline is not None
    assert info.value.method_name == "execute_complete"
    assert info.value.timeout is not None and info.value.timeout.total_seconds() >= 120
    assert emulator.stats.paths["/v1/catalog/us/albums"] == 1


def test_deferrable_returns_at_once_when_already_there(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    owned = emulator.catalog_ids("albums", in_library=True)[0]
    found = _sensor(ids={"albums": [owned]}, deferrable=True).execute({})  # type: ignore[arg-type]
    assert found == {"albums": {owned: emulator.library_ids()[owned]}}


def test_waits_for_a_new_playlist_to_appear(start_emulator: Any) -> None:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    emulator = start_emulator(songs=10, playlist_delay=1.5)
    created = AppleMusicHook().create_library_playlist("New", tracks=emulator.catalog_ids("songs")[:2])
    sensor = LibraryItemsSensor(task_id="wait", playlist_id=created["id"], poke_interval=0.3, timeout=20)
    assert sensor.execute({}) == {"playlists": {created["id"]: created["id"]}}  # type: ignore[arg-type]
    assert emulator.stats.paths[f"/v1/me/library/playlists/{created['id']}"] >= 2, "it waited"


def test_a_playlist_that_never_appears_times_out_naming_it(start_emulator: Any) -> None:
    start_emulator(albums=5)
    sensor = LibraryItemsSensor(task_id="wait", playlist_id="p.NeverThere1", poke_interval=0.2, timeout=1)
    with pytest.raises(AirflowSensorTimeout, match=r"never appeared .*p\.NeverThere1"):
        sensor.execute({})  # type: ignore[arg-type]


async def test_the_trigger_waits_for_a_playlist_too(start_emulator: Any) -> None:
    import time

    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
    from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger

    emulator = start_emulator(songs=10, playlist_delay=1.0)
    created = AppleMusicHook().create_library_playlist("New", tracks=emulator.catalog_ids("songs")[:1])
    trigger = LibraryItemsTrigger(playlist_id=created["id"], poll_interval=0.3, deadline=time.time() + 20)
    assert trigger.serialize()[1]["playlist_id"] == created["id"]
    event = await trigger.run().__anext__()
    assert event.payload == {"status": "success", "found": {"playlists": {created["id"]: created["id"]}}}
