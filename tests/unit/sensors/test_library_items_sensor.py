"""LibraryItemsSensor without a request: trigger events, resuming after the trigger, arguments, hook."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor


def _sensor(**kwargs: Any) -> LibraryItemsSensor:
    kwargs.setdefault("ids", {"albums": ["999999999"]})
    kwargs.setdefault("timeout", 1)
    return LibraryItemsSensor(task_id="wait", poke_interval=0.2, **kwargs)


TIMEOUT_EVENT = {"event": {"status": "timeout", "missing": {"albums": ["999999999"]}}}


def test_execute_complete_handles_every_event() -> None:
    sensor = _sensor(deferrable=True)
    found = {"albums": {"1": "l.x"}}
    assert sensor.execute_complete({}, {"status": "success", "found": found}) == found  # type: ignore[arg-type]
    with pytest.raises(AirflowSensorTimeout, match="999999999"):
        sensor.execute_complete({}, {"status": "timeout", "missing": {"albums": ["999999999"]}})  # type: ignore[arg-type]
    with pytest.raises(AirflowFailException, match="refused"):
        sensor.execute_complete({}, {"status": "error", "message": "refused"})  # type: ignore[arg-type]
    soft = _sensor(deferrable=True, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="999999999"):
        soft.execute_complete({}, {"status": "timeout", "missing": {"albums": ["999999999"]}})  # type: ignore[arg-type]


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
