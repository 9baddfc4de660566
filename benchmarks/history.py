"""
Benchmark: rows a second and peak memory of PlayActivityImportOperator on a lifetime privacy export.

Writes, with the emulator, a privacy export of ``--rows`` play-activity rows (default
1,000,000) in the widest header variant (145 columns, ``2025``), zipped in zips as Apple
delivers it, and an export of 10 rows (the empty run); imports each into a fresh JSON Lines
ledger in a child process of its own, and reports the child's rows a second (of wall time, and
of CPU time, which a busy machine skews less) and its peak RSS (``ru_maxrss``): the difference
is what the size costs (the target: at most 128 MiB more).

Run: ``.venv/bin/python benchmarks/history.py [--rows 1000000] [--container nested|csv|...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any


def write(rows: int, container: str, folder: str) -> None:
    """Write the export (in a child: the generator keeps counts, not plays); print its source."""
    from airflow_provider_applemusic.emulator.privacy_export import truth_summary, write_privacy_export

    export = write_privacy_export(folder, rows=rows, variant="2025", container=container, keep_truth=False)
    size = sum(os.path.getsize(path) for path in export.files)
    print(json.dumps({**truth_summary(export), "bytes": size}))


def child(source: str, ledger: str) -> None:
    """Import in this (fresh) process; print the figures as JSON."""
    from airflow_provider_applemusic.operators.play_activity import PlayActivityImportOperator

    operator = PlayActivityImportOperator(task_id="import", source=source, path=ledger)
    before = resource.getrusage(resource.RUSAGE_SELF)
    baseline = before.ru_maxrss
    started = time.perf_counter()
    result = operator.execute({"run_id": "benchmark"})  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "baseline_rss_kib": baseline,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "result": result,
            }
        )
    )


def _run(*args: str) -> dict[str, Any]:
    # each step in a child of its own: Linux keeps ru_maxrss across exec, so a child forked
    # from a large process would start with that process's peak
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def measure(rows: int, container: str, folder: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write an export of ``rows`` rows and import it: the export's summary and the import's figures."""
    where = os.path.join(folder, str(rows))
    os.makedirs(where)
    written = _run("--write", str(rows), container, where)
    return written, _run("--child", written["source"], os.path.join(where, "ledger"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--container", default="nested")
    parser.add_argument("--write", nargs=3, metavar=("ROWS", "CONTAINER", "FOLDER"))
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "LEDGER"))
    args = parser.parse_args()
    if args.write:
        write(int(args.write[0]), args.write[1], args.write[2])
        return
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="applemusic-history-bench-") as folder:
        empty = measure(10, args.container, folder)
        large = measure(args.rows, args.container, folder)
    for written, figures in (empty, large):
        result = figures["result"]
        print(
            f"{written['rows']:>9,} rows ({written['activity_bytes'] / 2**20:.1f} MiB of CSV, "
            f"{written['bytes'] / 2**20:.1f} MiB {args.container}): "
            f"{figures['seconds']:7.1f} s ({figures['cpu_seconds']:.1f} s CPU), "
            f"{written['rows'] / figures['seconds']:9,.0f} rows/s "
            f"({written['rows'] / max(figures['cpu_seconds'], 1e-9):,.0f} a CPU second), "
            f"peak RSS {figures['peak_rss_kib'] / 1024:6.1f} MiB "
            f"(after imports {figures['baseline_rss_kib'] / 1024:.1f} MiB); "
            f"{result['plays_written']:,} plays in {result['files']:,} files "
            f"(ground truth {written['plays']:,})"
        )
    difference = (large[1]["peak_rss_kib"] - empty[1]["peak_rss_kib"]) / 1024
    print(f"peak RSS over the empty run: {difference:.1f} MiB for {args.rows:,} rows")


if __name__ == "__main__":
    main()
