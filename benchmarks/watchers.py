"""
Benchmark: many LibraryChangedTriggers (asset watchers) on one event loop, as on a triggerer.

Each watcher has its own connection (one per user; all point at one emulator) and watches
``library-albums``. Runs a few poll rounds and prints: requests per poll round, CPU time of the
loop's thread per watcher poll, and the peak number of open client connections.

Run: ``.venv/bin/python benchmarks/watchers.py [--watchers 200] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from local_servers import airflow_env


class StateStore:
    """A watched asset's state store (async get and set), in memory."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value


def client_connections(port: int) -> int:
    """This process's TCP connections to ``port`` (the client ends only)."""
    import psutil

    return sum(1 for c in psutil.Process().net_connections("tcp") if c.raddr and c.raddr.port == port)


async def run_watchers(count: int, rounds: int, poll_interval: float, emulator: Any) -> dict[str, Any]:
    from airflow_provider_applemusic.triggers.library_changed import LibraryChangedTrigger

    watchers = []
    for n in range(count):
        trigger = LibraryChangedTrigger(
            apple_music_conn_id=f"apple_music_user_{n}",
            resources=["library-albums"],
            poll_interval=poll_interval,
        )
        trigger.asset_state_store = StateStore()  # type: ignore[attr-defined]
        watchers.append(trigger)

    async def drain(trigger: LibraryChangedTrigger) -> None:
        async for _ in trigger.run():
            pass

    peak = 0

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, client_connections(emulator.port))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    cpu0 = time.thread_time()
    tasks = [asyncio.create_task(drain(w)) for w in watchers]
    # each watcher poll is 2 requests (albums' meta.total, recently-added): wait for ``rounds``
    wall0 = time.monotonic()
    while emulator.stats.requests < 2 * count * rounds:
        await asyncio.sleep(0.05)
    cpu, wall = time.thread_time() - cpu0, time.monotonic() - wall0
    for task in (*tasks, sampler):
        task.cancel()
    for task in (*tasks, sampler):
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return {"cpu": cpu, "wall": wall, "peak_connections": peak}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--poll-interval", type=float, default=2.0)
    args = parser.parse_args()

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    with AppleMusicEmulator(albums=2000) as emulator:
        os.environ.update(airflow_env(emulator.connection_dict()))
        for n in range(args.watchers):
            os.environ[f"AIRFLOW_CONN_APPLE_MUSIC_USER_{n}"] = emulator.connection_json()
        emulator.reset_stats()
        result = asyncio.run(run_watchers(args.watchers, args.rounds, args.poll_interval, emulator))
        requests = emulator.stats.requests
        paths = dict(emulator.stats.paths)
    polls = args.watchers * args.rounds
    print(f"watchers: {args.watchers}, poll interval {args.poll_interval:g} s, rounds: {args.rounds}")
    print(f"requests: {requests} ({requests / args.rounds:.0f} a poll round; by path {json.dumps(paths)})")
    print(f"{args.rounds} rounds took {result['wall']:.1f} s (the poll interval bounds it from below)")
    print(f"CPU time of the loop per watcher poll: {1000 * result['cpu'] / polls:.2f} ms")
    print(f"peak open client connections: {result['peak_connections']}")


if __name__ == "__main__":
    main()
