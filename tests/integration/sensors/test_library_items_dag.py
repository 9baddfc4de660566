"""Add, then wait: AddToLibraryOperator and LibraryItemsSensor in real DAG runs (``dag.test()``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.support import task_states, xcom_value

DAG_SOURCE = """
import json

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor

with DAG(
    "{dag_id}",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={{"ids": {ids}}},
) as dag:
    add = AddToLibraryOperator(task_id="add", ids="{{{{ params.ids | tojson }}}}", on_unknown="{on_unknown}")
    wait = LibraryItemsSensor(
        task_id="wait",
        ids=add.output,
        mode="{mode}",
        deferrable={deferrable},
        poke_interval=0.5,
        timeout={timeout},
        soft_fail={soft_fail},
    )

    @task
    def report(found):
        print("LIBRARY IDS", json.dumps(found, sort_keys=True))
        return found

    report(wait.output)
"""


def _dag(load_dag: Any, dag_id: str, ids: dict[str, list[str]], **options: Any) -> Any:
    settings = {"mode": "poke", "deferrable": False, "timeout": 30, "soft_fail": False, "on_unknown": "fail"}
    settings.update(options)
    return load_dag(dag_id, DAG_SOURCE.format(dag_id=dag_id, ids=repr(ids), **settings))


@pytest.mark.parametrize(("mode", "deferrable"), [("poke", True), ("poke", False), ("reschedule", False)])
def test_add_then_wait_returns_the_emulators_library_ids(
    start_emulator: Any, load_dag: Any, mode: str, deferrable: bool
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=10, add_delay=3.0)
    album, song = emulator.catalog_ids("albums")[0], emulator.catalog_ids("songs")[0]
    dag_id = f"applemusic_add_wait_{mode}_{deferrable}".lower()
    dag = _dag(load_dag, dag_id, {"albums": [album], "songs": [song]}, mode=mode, deferrable=deferrable)
    run = dag.test(logical_date=dt.datetime.now(dt.timezone.utc))
    assert run.state == DagRunState.SUCCESS, task_states(run)
    expected = {
        "albums": {album: emulator.library_ids("albums")[album]},
        "songs": {song: emulator.library_ids("songs")[song]},
    }
    assert xcom_value(run, "add") == {"albums": [album], "songs": [song]}
    assert xcom_value(run, "wait") == expected
    assert xcom_value(run, "report") == expected
    assert emulator.stats.posts == 1


def test_unknown_id_fails_the_add_before_any_post(start_emulator: Any, load_dag: Any) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=10)
    dag = _dag(load_dag, "applemusic_add_unknown", {"albums": ["999999999"]})
    run = dag.test(logical_date=dt.datetime.now(dt.timezone.utc))
    assert run.state == DagRunState.FAILED
    assert task_states(run)["add"] == "failed"
    assert emulator.stats.posts == 0


@pytest.mark.parametrize("deferrable", [True, False])
def test_ignored_unknown_id_times_the_sensor_out_naming_it(
    start_emulator: Any, load_dag: Any, deferrable: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=10)
    dag_id = f"applemusic_add_ignored_{deferrable}".lower()
    dag = _dag(
        load_dag, dag_id, {"albums": ["999999999"]}, on_unknown="ignore", deferrable=deferrable, timeout=2
    )
    run = dag.test(logical_date=dt.datetime.now(dt.timezone.utc))
    assert run.state == DagRunState.FAILED
    assert task_states(run)["wait"] == "failed"
    assert emulator.stats.posts == 1
    output = "".join(capfd.readouterr())
    assert "Items never appeared in the library within 2 s: {'albums': ['999999999']}" in output
