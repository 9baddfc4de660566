"""
The play ledger on a real deployment, run by an asset watcher: once per listening burst, not
again after a triggerer restart (the watcher's list lives in the asset state store).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.hooks.test_play_ledger_week import shown_new
from tests.system.deployment.conftest import BUCKET, PATIENCE_SECONDS, Deployment

DAG_ID = "deployment_listening_watch"
TASK = "record_plays"
PLAYED = "recently-played-tracks"
PLAYED_PATH = "/v1/me/recent/played/tracks"
#: polls of the watcher to wait through before saying that nothing more happened
QUIET_POLLS = 3

pytestmark = pytest.mark.deployment


def _wait(condition: Any, what: str, deployment: Deployment) -> Any:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not (found := condition()):
        deployment.check_alive()
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.5)
    return found


def _polls(deployment: Deployment) -> int:
    """Reads of the play history the emulator has served (the watcher's polls, the runs' reads)."""
    return int(deployment.emulator.stats.paths[PLAYED_PATH])


def _quiet(deployment: Deployment) -> None:
    """Wait until the watcher has polled a few more times (a condition, not a fixed sleep)."""
    start = _polls(deployment)
    _wait(lambda: _polls(deployment) >= start + QUIET_POLLS, f"{QUIET_POLLS} more polls", deployment)


def _watched_runs(deployment: Deployment) -> list[dict[str, Any]]:
    return [run for run in deployment.runs(DAG_ID) if run["run_type"] == "asset_triggered"]


def _list(deployment: Deployment) -> list[str]:
    return [f"{e['type']}:{e['id']}" for e in deployment.emulator.library_items(PLAYED, extend=())]


def _burst_is_recorded(deployment: Deployment, before: int, previous: list[str], made: list[Any]) -> None:
    """One run starts for the burst, and its ledger file holds exactly the plays the list shows."""
    _wait(lambda: len(_watched_runs(deployment)) > before, "a run for the burst", deployment)
    runs = _watched_runs(deployment)
    run_id = sorted(runs, key=lambda run: run["run_after"])[-1]["dag_run_id"]
    done = deployment.wait_for_run(DAG_ID, run_id)
    assert done["state"] == "success", deployment.task_log(DAG_ID, run_id, TASK)
    result = deployment.xcom(DAG_ID, run_id, TASK)
    current = _list(deployment)
    shown = shown_new(previous, current)
    distinct = list(dict.fromkeys(f"{p['type']}:{p['id']}" for p in reversed(made)))
    assert shown > 0 and current[:shown] == distinct[:shown]
    body = deployment.read_object(result["uri"].removeprefix(f"s3://{BUCKET}/"))
    rows = [json.loads(line) for line in body.splitlines()]
    assert [f"{row['type']}:{row['id']}" for row in rows] == distinct[:shown]
    assert result["plays"] == shown and not result["gap"]
    _quiet(deployment)
    assert len(_watched_runs(deployment)) == before + 1, "it ran more than once for one burst"


def test_the_watcher_runs_the_ledger_once_per_burst_and_not_again_after_a_restart(
    deployment: Deployment,
) -> None:
    from tests.system.deployment.test_deployment import _wait_for_log

    emulator = deployment.emulator
    deployment.wait_for_dags(DAG_ID)  # unpaused: its asset's watcher is registered on reparse
    deployment.reparse(DAG_ID)
    # its first start takes a baseline (it may have started before, on a triggerer the tier restarted)
    _wait_for_log(deployment, "triggerer", "Watching the plays of connection")
    # the ledger's first run, by hand: it records the list as it is
    first = deployment.trigger(DAG_ID)
    done = deployment.wait_for_run(DAG_ID, first["dag_run_id"])
    assert done["state"] == "success", deployment.task_log(DAG_ID, first["dag_run_id"], TASK)
    assert deployment.xcom(DAG_ID, first["dag_run_id"], TASK)["plays"] == len(_list(deployment))
    _quiet(deployment)
    assert _watched_runs(deployment) == []  # nothing played: no run

    previous = _list(deployment)
    made = emulator.listening_session(8)
    _burst_is_recorded(deployment, 0, previous, made)

    deployment.restart_component("triggerer")
    _wait_for_log(deployment, "triggerer", "from the saved list")
    _quiet(deployment)  # back with the list it saved: the burst already seen fires nothing
    assert len(_watched_runs(deployment)) == 1, "it fired again after a restart"
    assert "Baseline of the plays taken" not in deployment.component_log("triggerer")

    previous = _list(deployment)
    made = emulator.listening_session(5)
    _burst_is_recorded(deployment, 1, previous, made)
    response = deployment.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": True})
    assert response.status_code == 200, response.text
