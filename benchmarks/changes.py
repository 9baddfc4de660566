"""
Benchmark: peak memory and time of LibraryChangesOperator on two song snapshots.

Writes two snapshots of the emulator's library songs (gzipped JSON Lines, as the export writes
them; the second after 100 additions and 100 removals), then compares them in a fresh child
process and reports its peak RSS, for 1,000 songs and for ``--songs`` (default 200,000): the
difference is what the comparison costs as the library grows.

Run: ``.venv/bin/python benchmarks/changes.py [--songs 200000]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any


def write_snapshots(songs: int, folder: str) -> tuple[str, str]:
    """Two gzipped JSON Lines snapshots of ``songs`` library songs, 100 added and 100 removed between."""
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    emulator = AppleMusicEmulator(albums=10, songs=songs, playlists=0)
    paths = []
    for name in ("before", "after"):
        path = os.path.join(folder, f"{name}-{songs}.jsonl.gz")
        with gzip.open(path, "wt", encoding="utf-8") as out:
            for item in emulator.library_items("library-songs"):
                out.write(json.dumps(item) + "\n")
        paths.append(path)
        emulator.apply_changes(add=100, remove=100, resource="library-songs")
    return paths[0], paths[1]


def child(previous: str, current: str, out: str) -> None:
    """Compare in this (fresh) process; print the figures as JSON."""
    from airflow_provider_applemusic.operators.changes import LibraryChangesOperator

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = LibraryChangesOperator(task_id="changes", previous=previous, current=current, path=out).execute(
        {}  # type: ignore[arg-type]
    )
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "baseline_rss_kib": baseline,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "result": result,
            }
        )
    )


def measure(songs: int, folder: str) -> dict[str, Any]:
    # each step in a child of its own: a child forked from a large process starts with its
    # peak RSS (Linux keeps ru_maxrss across exec)
    written = subprocess.run(
        [sys.executable, __file__, "--write", str(songs), folder], capture_output=True, text=True, check=True
    )
    previous, current = json.loads(written.stdout.strip().splitlines()[-1])
    out = os.path.join(folder, f"changes-{songs}.jsonl")
    done = subprocess.run(
        [sys.executable, __file__, "--child", previous, current, out],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=200_000)
    parser.add_argument("--child", nargs=3, metavar=("PREVIOUS", "CURRENT", "OUT"))
    parser.add_argument("--write", nargs=2, metavar=("SONGS", "FOLDER"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.write:
        print(json.dumps(write_snapshots(int(args.write[0]), args.write[1])))
        return
    with tempfile.TemporaryDirectory(prefix="applemusic-changes-bench-") as folder:
        small, large = measure(1_000, folder), measure(args.songs, folder)
    for songs, figures in ((1_000, small), (args.songs, large)):
        counts = figures["result"]
        print(
            f"{songs:>8,} songs: peak {figures['peak_rss_kib'] / 1024:7.1f} MiB "
            f"(after imports {figures['baseline_rss_kib'] / 1024:.1f} MiB), {figures['seconds']:.2f} s, "
            f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed"
        )
    difference = (large["peak_rss_kib"] - small["peak_rss_kib"]) / 1024
    print(f"difference: {difference:.1f} MiB for {args.songs - 1_000:,} more songs")


if __name__ == "__main__":
    main()
