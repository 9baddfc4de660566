"""
Deployment tier: an export whose task process is killed (SIGKILL) about half way through, or
that runs out of its ``execution_timeout``, is retried by the scheduler and resumed from its
checkpoint in Airflow's task state store.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from typing import TYPE_CHECKING, Any

from tests.system.deployment.conftest import PATIENCE_SECONDS

if TYPE_CHECKING:
    from tests.system.deployment.conftest import Deployment

DAG_ID = "deployment_export_resume"
SONGS = 20_000
#: the pages of 100 songs: the first, then one every 99 songs (each page overlaps the last by one)
PAGES = 1 + -(-(SONGS - 100) // 99)
#: a resumed try's requests beyond the pages its checkpoint did not cover, at most
SLACK = 3


def _exporting_process(deployment: Deployment, port: int) -> Any:
    """The task process: the deployment's process with a connection open to the emulator on ``port``."""
    import psutil

    from tests.system.deployment.conftest import session_processes

    for process in session_processes(deployment.sessions):
        with contextlib.suppress(psutil.Error):
            if any(c.raddr and c.raddr.port == port for c in process.net_connections(kind="tcp")):
                return process
    return None


def _kill_half_way(deployment: Deployment, emulator: Any) -> int:
    """Wait for the first try to be half way, kill its task process; the requests it made."""
    import psutil

    deadline = time.monotonic() + PATIENCE_SECONDS
    process = None
    while process is None:
        assert time.monotonic() < deadline, "the export never started"
        if emulator.stats.requests:
            process = _exporting_process(deployment, emulator.port)
        time.sleep(0.01)
    while emulator.stats.requests < PAGES // 2:
        assert time.monotonic() < deadline and process.is_running(), "the export stopped before half way"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    with contextlib.suppress(psutil.Error):
        process.wait(timeout=30)
    made = emulator.stats.requests
    emulator.reset_stats()
    return made


def test_a_killed_export_is_retried_and_resumed_with_an_exact_file(deployment: Deployment) -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    target = deployment.home / "exports" / "resumed-songs.jsonl"
    with AppleMusicEmulator(songs=SONGS, latency_ms=30) as emulator:
        deployment.add_connection("apple_music_resume", emulator.connection_dict())
        deployment.wait_for_dags(DAG_ID)
        run = deployment.trigger(DAG_ID, conf={"path": f"file://{target}"})
        first_try = _kill_half_way(deployment, emulator)
        done = deployment.wait_for_run(DAG_ID, run["dag_run_id"])
        log = deployment.task_log(DAG_ID, run["dag_run_id"], "songs")
        assert done["state"] == "success", log[-3000:]
        ti = deployment.task_instance(DAG_ID, run["dag_run_id"], "songs")
        assert ti["try_number"] == 2, "the killed try was not the first, or the retry failed"
        resumed = emulator.stats.requests
        expected = emulator.library_items("library-songs")
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected, "the resumed file is not the library"
    assert len(expected) == SONGS
    match = re.search(r"Resuming the export of try 1 .*?going on from page (\d+)", log)
    assert match, log[-3000:]
    covered = int(match.group(1)) - 1  # pages the checkpoint held
    assert covered >= PAGES // 4, f"the checkpoint held only {covered} of {PAGES} pages"
    assert first_try >= PAGES // 2
    print(f"pages {PAGES}, first try {first_try} requests, checkpoint {covered} pages, resumed try {resumed}")
    assert resumed <= PAGES - covered + SLACK, (PAGES, covered, first_try, resumed)
    staged = [name for name in os.listdir(target.parent) if name.startswith(f".{target.name}")]
    assert staged == [], "staged parts were left behind"


TIMEOUT_DAG_ID = "deployment_export_resume_timeout"
#: pages a try that runs out of time may have in flight or waiting in order (8 in flight)
IN_FLIGHT = 16


def test_an_export_that_runs_out_of_its_execution_timeout_resumes_on_each_retry(
    deployment: Deployment,
) -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    target = deployment.home / "exports" / "timed-out-songs.jsonl"
    # 203 pages, 8 at a time, 200 ms each: about 5 s, more than the task's 4 s execution_timeout
    with AppleMusicEmulator(songs=SONGS, latency_ms=200) as emulator:
        deployment.add_connection("apple_music_resume_timeout", emulator.connection_dict())
        deployment.wait_for_dags(TIMEOUT_DAG_ID)
        run = deployment.trigger(TIMEOUT_DAG_ID, conf={"path": f"file://{target}"})
        done = deployment.wait_for_run(TIMEOUT_DAG_ID, run["dag_run_id"])
        log = deployment.task_log(TIMEOUT_DAG_ID, run["dag_run_id"], "songs")
        assert done["state"] == "success", log[-3000:]
        tries = deployment.task_instance(TIMEOUT_DAG_ID, run["dag_run_id"], "songs")["try_number"]
        requests = emulator.stats.requests
        expected = emulator.library_items("library-songs")
    assert tries >= 2, "the first try did not run out of time: nothing was resumed"
    assert "AirflowTaskTimeout" in log or "Timeout" in log, log[-3000:]
    resumed = re.findall(r"Resuming the export of try (\d+) .*?going on from page (\d+)", log)
    assert len(resumed) == tries - 1, log[-3000:]
    assert all(int(page) > 1 for _, page in resumed), resumed
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected
    print(f"pages {PAGES}, {tries} tries, {requests} requests in all, resumed from pages {resumed}")
    # each try that ran out of time stages what it finished: only pages still in flight are fetched again
    assert requests <= PAGES + (tries - 1) * (IN_FLIGHT + SLACK), (requests, tries)
    assert [name for name in os.listdir(target.parent) if name.startswith(f".{target.name}")] == []
