"""
Benchmark: many LibraryItemsTriggers on one event loop, as on a triggerer; prints its figures.

The emulator runs in a process of its own (add delay 5 s) and reports what it saw over a pipe.
Each trigger waits for one added album, polling every second. Printed: catalog requests per
poll interval (goal: at most ceil(N/100) per type), ``/v1/me/storefront`` requests, the peak
number of open TCP connections of this process (goal: at most 16), the CPU time of this process
per sensor-poll (one sensor waiting through one poll interval), and the time from the add to
the last success (goal: within the add delay plus two poll intervals).

Run: ``.venv/bin/python benchmarks/triggerer.py [--triggers 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import sys
import time
from typing import TYPE_CHECKING, Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from local_servers import airflow_env

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


def serve_emulator(pipe: Connection, albums: int, add_delay: float) -> None:
    """The emulator's process: start it, send its connection, then answer ``stats`` requests."""
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    with AppleMusicEmulator(albums=albums, add_delay=add_delay) as emulator:
        pipe.send((emulator.connection_dict(), emulator.catalog_ids("albums")))
        while (command := pipe.recv()) != "stop":
            if command == "reset":
                emulator.reset_stats()
                pipe.send(None)
            else:
                pipe.send({"requests": emulator.stats.requests, "paths": dict(emulator.stats.paths)})


def open_sockets() -> int:
    """Sockets this process holds open (cheap: one readlink per descriptor)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


async def run_triggers(album_ids: list[str], poll_interval: float) -> dict[str, Any]:
    """Run one trigger per album on this loop until each has its first event."""
    from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger

    async def first_event(album: str) -> tuple[dict[str, Any], float]:
        trigger = LibraryItemsTrigger(
            ids={"albums": [album]}, storefront=None, poll_interval=poll_interval, deadline=time.time() + 300
        )
        async for event in trigger.run():
            return event.payload, time.monotonic()
        raise RuntimeError("no event")

    try:  # the presence registry's rounds, where there is one (not in the code before it)
        from airflow_provider_applemusic.triggers.presence_registry import presence_registry
    except ImportError:
        presence_registry = None  # type: ignore[assignment]

    baseline = open_sockets()
    peak = 0
    rounds: dict[Any, int] = {}
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, open_sockets() - baseline)
            if presence_registry is not None:
                for group in list(presence_registry().groups.values()):
                    rounds[group] = group.rounds
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    cpu0, wall0 = time.process_time(), time.monotonic()
    results = await asyncio.gather(*(first_event(a) for a in album_ids))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stop.set()
    await sampler
    return {
        "succeeded": sum(1 for event, _ in results if event["status"] == "success"),
        "last": max(at for _, at in results),
        "wall": wall,
        "cpu": cpu,
        "peak_connections": peak,
        "rounds": sum(group.rounds for group in rounds) if presence_registry is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triggers", type=int, default=500)
    parser.add_argument("--add-delay", type=float, default=5.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    n = args.triggers
    mine, theirs = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve_emulator, args=(theirs, 10 * n, args.add_delay), daemon=True
    )
    server.start()
    try:
        conn, catalog = mine.recv()
        os.environ.update(airflow_env(conn))
        from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

        albums = catalog[:n]
        AppleMusicHook().add_to_library({"albums": albums})
        added_at = time.monotonic()
        mine.send("reset")
        mine.recv()
        result = asyncio.run(run_triggers(albums, args.poll_interval))
        mine.send("stats")
        stats = mine.recv()
        mine.send("stop")
    finally:
        server.join(timeout=30)
        if server.is_alive():
            server.terminate()
    since_add = result["last"] - added_at
    catalog_requests = sum(v for path, v in stats["paths"].items() if path.startswith("/v1/catalog/"))
    intervals = result["wall"] / args.poll_interval
    sensor_polls = n * intervals
    print(f"triggers: {n}, add delay {args.add_delay:g} s, poll interval {args.poll_interval:g} s")
    print(f"succeeded: {result['succeeded']}/{n}")
    print(
        f"add to last success: {since_add:.2f} s "
        f"(goal <= {args.add_delay + 2 * args.poll_interval:g} s: delay + 2 poll intervals)"
    )
    print(
        f"catalog requests: {catalog_requests} in {intervals:.1f} poll intervals = "
        f"{catalog_requests / max(intervals, 1e-9):.1f} per interval"
    )
    if result["rounds"]:
        print(
            f"presence rounds: {result['rounds']}, catalog requests per round: "
            f"{catalog_requests / result['rounds']:.1f} (goal <= {math.ceil(n / 100)})"
        )
    else:
        print("presence rounds: none (each trigger polls on its own)")
    print(f"storefront requests: {stats['paths'].get('/v1/me/storefront', 0)}")
    print(f"all requests seen by the emulator: {stats['requests']}")
    print(f"peak open connections of this process: {result['peak_connections']} (goal <= 16)")
    print(
        f"CPU time: {result['cpu']:.2f} s = {1e6 * result['cpu'] / max(sensor_polls, 1):.0f} us "
        "per sensor-poll (one sensor waiting through one poll interval)"
    )


if __name__ == "__main__":
    main()
