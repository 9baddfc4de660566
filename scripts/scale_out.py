"""
``make scale-out``: many users on one developer key, exported by CeleryExecutor workers.

Starts Redis (the Celery broker, and the shared request budget's store), the Apple Music
emulator with ``--users`` users behind one developer key limited to ``--rate-limit`` requests a
second, moto's S3, and Airflow with CeleryExecutor: api-server, scheduler, dag-processor and
``--workers`` Celery workers of ``--slots`` slots each (log servers off). It stores one
``apple_music`` connection per user, triggers ``applemusic_many_users_export`` over them and
prints, measured from the first to the last Apple request the emulator saw: requests a second
accepted against the limit, 429s, failed tasks, and whether every user's file is exactly that
user's library. The Airflow machinery (``Deployment``) is the deployment tier's.

Budgets (``--budget``): ``none`` (each task's adaptive limit and retries alone), ``per-slot``
(each task process holds itself to the key's rate divided by the pool's slots) and ``redis`` (one
budget in Redis shared by every process using the key: the default).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.system.deployment.conftest import (  # noqa: E402
    Deployment,
    _environment,
    free_port,
    start_local_s3,
)

DAG_ID = "applemusic_many_users_export"
TASK_ID = "export_user_library"
#: the budget is set this much below the key's limit: the service's window and ours never line up exactly
BUDGET_SHARE = 0.95


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--albums", type=int, default=10_000, help="albums per user")
    parser.add_argument("--rate-limit", type=float, default=20.0, help="the key's requests a second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=2, help="task slots per worker")
    parser.add_argument("--budget", choices=("none", "per-slot", "redis"), default="redis")
    parser.add_argument("--deadline-minutes", type=float, default=18.0)
    parser.add_argument("--keep-home", action="store_true", help="keep the Airflow home for a look")
    return parser.parse_args(argv)


def start_redis(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server of our own on a free loopback port, nothing persisted."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(home / "redis.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                break
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"redis-server did not start:\n{(home / 'redis.log').read_text()}")
        time.sleep(0.1)
    return process, f"redis://127.0.0.1:{port}"


def budget_extra(kind: str, rate_limit: float, pool_slots: int, redis_url: str) -> dict[str, Any]:
    """The connection extras of a budget kind."""
    if kind == "per-slot":
        return {"requests_per_second": round(rate_limit * BUDGET_SHARE / pool_slots, 3)}
    if kind == "redis":
        return {"requests_per_second": round(rate_limit * BUDGET_SHARE, 3), "budget_store": f"{redis_url}/2"}
    return {}


def mapped_states(deployment: Deployment, run_id: str) -> list[dict[str, Any]]:
    """The mapped export task instances of the run."""
    body = deployment.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", limit=500)
    return [ti for ti in body["task_instances"] if ti["task_id"] == TASK_ID]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import logging

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    started = time.monotonic()
    deadline = started + args.deadline_minutes * 60
    home = Path(tempfile.mkdtemp(prefix="applemusic-scale-out-"))
    pool_slots = args.workers * args.slots
    print(
        f"scale-out: {args.users} users x {args.albums} albums, one key at {args.rate_limit:g} requests/s, "
        f"CeleryExecutor {args.workers} workers x {args.slots} slots, budget {args.budget}; home {home}",
        flush=True,
    )
    redis_process, redis_url = start_redis(home)
    emulator = AppleMusicEmulator(albums=args.albums, users=args.users, rate_limit=args.rate_limit)
    emulator.start()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request lines
    moto, s3_url, s3 = start_local_s3()
    api_port = free_port()
    dags = home / "dags"
    dags.mkdir()
    shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
    env = _environment(home, dags, api_port, s3_url)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(pool_slots * 2),
            "AIRFLOW__CELERY__BROKER_URL": f"{redis_url}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"{redis_url}/1",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(args.slots),
        }
    )
    deployment = Deployment(
        home=home, dags=dags, env=env, emulator=emulator, s3=s3, s3_url=s3_url, api_port=api_port, moto=moto
    )
    failures = 1
    try:
        deployment.cli("db", "migrate")
        deployment.start_component("api-server", "api-server", "-H", "127.0.0.1", "-p", str(api_port))
        deployment.start_component("scheduler", "scheduler", "--skip-serve-logs")
        deployment.start_component("dag-processor", "dag-processor")
        for number in range(1, args.workers + 1):
            deployment.start_component(
                f"worker{number}",
                "celery",
                "worker",
                "--concurrency",
                str(args.slots),
                "--skip-serve-logs",
                "--celery-hostname",
                f"worker{number}@%h",
                "--without-gossip",
                "--without-mingle",
            )
        deployment.wait_until_serving()
        response = deployment.api(
            "POST",
            "/pools",
            json={"name": "apple_music", "slots": pool_slots, "description": "Apple Music API"},
        )
        assert response.status_code in (200, 201), response.text
        extra = budget_extra(args.budget, args.rate_limit, pool_slots, redis_url)
        conn_ids = []
        for user in range(args.users):
            conn_id = f"apple_music_user_{user:02d}"
            deployment.add_connection(conn_id, emulator.connection_dict(user), **extra)
            conn_ids.append(conn_id)
        deployment.wait_for_dags(DAG_ID)
        emulator.reset_stats()
        print(f"components up after {time.monotonic() - started:.0f} s; exporting", flush=True)
        run = deployment.trigger(DAG_ID, conf={"apple_music_conn_ids": conn_ids})
        run_id = run["dag_run_id"]
        last_report = 0.0
        while True:
            state = deployment.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                break
            deployment.check_alive()
            if time.monotonic() > deadline:
                print(
                    f"gave up: the run is still {state} after {args.deadline_minutes:g} minutes", flush=True
                )
                break
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                states: dict[str, int] = {}
                for ti in mapped_states(deployment, run_id):
                    states[str(ti["state"])] = states.get(str(ti["state"]), 0) + 1
                stats = emulator.stats
                print(
                    f"  {time.monotonic() - started:5.0f} s: tasks {states}; Apple requests "
                    f"{stats.requests}, 429s {stats.statuses[429]}",
                    flush=True,
                )
            time.sleep(2)
        failures = report(deployment, run_id, state, conn_ids, args)
    finally:
        deployment.stop()
        redis_process.terminate()
        redis_process.wait(timeout=30)
        if not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)
    print(f"scale-out finished in {(time.monotonic() - started) / 60:.1f} minutes", flush=True)
    return 1 if failures else 0


def report(
    deployment: Deployment, run_id: str, state: str, conn_ids: list[str], args: argparse.Namespace
) -> int:
    """Print the figures; return how many things missed their goal."""
    stats = deployment.emulator.stats
    tis = mapped_states(deployment, run_id)
    failed = [ti for ti in tis if ti["state"] != "success"]
    retried = [ti for ti in tis if ti["try_number"] > 1]
    exact = 0
    for user, conn_id in enumerate(conn_ids):
        key = f"library-albums/{run_id}/{conn_id}.jsonl"
        try:
            body = deployment.read_object(key)
        except Exception:  # noqa: BLE001 - a missing file is reported, not raised
            continue
        if [json.loads(line) for line in body.splitlines()] == deployment.emulator.library(user=user):
            exact += 1
    elapsed = (stats.last_response_at or 0.0) - (stats.first_request_at or 0.0)
    accepted = stats.accepted_rate()
    share = accepted / args.rate_limit
    print("")
    print(f"run {run_id}: {state}")
    print(f"Apple requests: {stats.requests} in {elapsed:.1f} s (first to last), {dict(stats.statuses)}")
    print(f"accepted requests/s: {accepted:.2f} of the key's {args.rate_limit:g} ({share:.0%}; goal 80%+)")
    print(f"429s: {stats.statuses[429]}")
    print(f"failed tasks: {len(failed)} of {len(tis)} (goal 0); tasks retried: {len(retried)}")
    verdict = "all exact" if exact == len(conn_ids) else "NOT all exact"
    print(f"exact files: {exact} of {len(conn_ids)} users ({verdict})")
    return int(share < 0.8) + len(failed) + (len(conn_ids) - exact) + int(state != "success")


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "deployment")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "deployment")
    sys.exit(main())
