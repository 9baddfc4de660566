"""LibraryItemsSensor outside a DAG run: timeouts, soft_fail and trigger events."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
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


def test_execute_complete_handles_every_event() -> None:
    sensor = _sensor(deferrable=True)
    found = {"albums": {"1": "l.x"}}
    assert sensor.execute_complete({}, {"status": "success", "found": found}) == found  # type: ignore[arg-type]
    with pytest.raises(AirflowSensorTimeout, match="999999999"):
        sensor.execute_complete({}, {"status": "timeout", "missing": {"albums": ["999999999"]}})  # type: ignore[arg-type]
    with pytest.raises(AirflowFailException, match="refused"):
        sensor.execute_complete({}, {"status": "error", "message": "refused", "fatal": True})  # type: ignore[arg-type]
    soft = _sensor(deferrable=True, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="999999999"):
        soft.execute_complete({}, {"status": "timeout", "missing": {"albums": ["999999999"]}})  # type: ignore[arg-type]


TIMEOUT_EVENT = {"event": {"status": "timeout", "missing": {"albums": ["999999999"]}}}


def test_resume_after_the_trigger_keeps_the_soft_fail_skip_naming_the_missing_ids() -> None:
    # the task runner resumes a deferred task through resume_execution, not execute_complete
    sensor = _sensor(deferrable=True, soft_fail=True)
    with pytest.raises(AirflowSkipException, match=r"never appeared .*\{'albums': \['999999999'\]\}"):
        sensor.resume_execution("execute_complete", TIMEOUT_EVENT, {})  # type: ignore[arg-type]


def test_resume_after_the_trigger_keeps_the_timeout_naming_the_missing_ids() -> None:
    sensor = _sensor(deferrable=True)
    with pytest.raises(AirflowSensorTimeout, match=r"never appeared .*\{'albums': \['999999999'\]\}"):
        sensor.resume_execution("execute_complete", TIMEOUT_EVENT, {})  # type: ignore[arg-type]


def test_resume_with_never_fail_skips_naming_the_missing_ids() -> None:
    sensor = _sensor(deferrable=True, never_fail=True)
    with pytest.raises(AirflowSkipException, match="999999999"):
        sensor.resume_execution("execute_complete", TIMEOUT_EVENT, {})  # type: ignore[arg-type]


def test_resume_returns_the_library_ids_on_success() -> None:
    sensor = _sensor(deferrable=True, soft_fail=True)
    found = {"albums": {"1": "l.x"}}
    event = {"event": {"status": "success", "found": found}}
    assert sensor.resume_execution("execute_complete", event, {}) == found  # type: ignore[arg-type]


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


@pytest.mark.parametrize("kwargs", [{}, {"ids": {"albums": ["1"]}, "playlist_id": "p.x"}])
def test_ids_or_playlist_id_exactly_one(kwargs: dict[str, Any]) -> None:
    with pytest.raises(AppleMusicConfigError, match=r"give either ids .* or playlist_id"):
        LibraryItemsSensor(task_id="wait", **kwargs)


def test_the_sensor_takes_the_cached_hook_of_its_connection_from_the_base_operator() -> None:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
    from airflow_provider_applemusic.operators.base import AppleMusicBaseOperator

    sensor = _sensor(apple_music_conn_id="mine")
    assert isinstance(sensor, AppleMusicBaseOperator) and "hook" not in vars(LibraryItemsSensor)
    assert isinstance(sensor.hook, AppleMusicHook) and sensor.hook is sensor.hook
    assert sensor.hook.apple_music_conn_id == "mine"
    assert sensor.ui_color == "#fc3c44"
    assert LibraryItemsSensor.template_fields == ("ids", "playlist_id", "apple_music_conn_id", "storefront")
