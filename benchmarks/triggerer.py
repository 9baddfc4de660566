"""
Benchmark: 500 LibraryItemsTriggers on one event loop, as on a triggerer; prints its figures.

The emulator runs in its own process (add delay 5 s). Each trigger waits for one added album,
polling every second. Reports the wall time until all succeeded (target: within delay + 3 s),
the CPU time of this process per poll, and the peak number of open TCP connections.

Run: ``.venv/bin/python benchmarks/triggerer.py [--triggers 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from local_servers import airflow_env, emulator_process


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
    from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger

    hooks: list[Any] = []

    def make(album: str) -> LibraryItemsTrigger:
        trigger = LibraryItemsTrigger(
            ids={"albums": [album]},
            storefront="us",
            poll_interval=poll_interval,
            deadline=time.time() + 120,
        )
        original = trigger._hook

        def spy() -> Any:
            hook = original()
            hooks.append(hook)
            return hook

        trigger._hook = spy  # type: ignore[method-assign]
        return trigger

    async def first_event(trigger: LibraryItemsTrigger) -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise RuntimeError("no event")

    baseline = open_sockets()
    peak = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, open_sockets() - baseline)
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    cpu0, wall0 = time.process_time(), time.monotonic()
    events = await asyncio.gather(*(first_event(make(a)) for a in album_ids))
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    stop.set()
    await sampler
    polls = sum(h.concurrency.stats.requests for h in hooks)
    return {
        "succeeded": sum(1 for e in events if e["status"] == "success"),
        "wall": wall,
        "cpu": cpu,
        "polls": polls,
        "peak_connections": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triggers", type=int, default=500)
    parser.add_argument("--add-delay", type=float, default=5.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    with emulator_process(albums=10 * args.triggers, add_delay=args.add_delay) as conn:
        os.environ.update(airflow_env(conn))
        from airflow_provider_applemusic.emulator import AppleMusicEmulator
        from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

        # the same seed and size give the same catalog as the emulator process
        local = AppleMusicEmulator(albums=10 * args.triggers)
        albums = local.catalog_ids("albums")[: args.triggers]
        assert len(albums) == args.triggers
        AppleMusicHook().add_to_library({"albums": albums})
        added_at = time.monotonic()
        result = asyncio.run(run_triggers(albums, args.poll_interval))
        since_add = time.monotonic() - added_at
    print(
        f"triggers: {args.triggers}, add delay {args.add_delay:g} s, poll interval {args.poll_interval:g} s"
    )
    print(f"succeeded: {result['succeeded']}/{args.triggers}")
    print(
        f"wall time from the add to the last success: {since_add:.2f} s (target <= {args.add_delay + 3:g} s)"
    )
    print(f"polls (requests): {result['polls']}")
    print(f"CPU time per poll: {1000 * result['cpu'] / max(1, result['polls']):.2f} ms")
    print(f"peak open connections of this process: {result['peak_connections']}")


if __name__ == "__main__":
    main()
