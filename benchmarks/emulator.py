"""
Benchmark: how long the emulator takes to generate a large library (100,000 songs), the size
of the largest real libraries; tests and the demo start one often, so it must stay seconds.
Each sample is a fresh interpreter. Run: ``.venv/bin/python benchmarks/emulator.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

PROBE = """
import time
from airflow_provider_applemusic.emulator import AppleMusicEmulator
started = time.perf_counter()
emulator = AppleMusicEmulator(albums=10, songs=100_000)
print(time.perf_counter() - started, len(emulator.library_ids("songs")))
"""


def main() -> None:
    samples = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
        seconds, songs = out.stdout.split()
        samples.append(float(seconds))
    print(
        f"emulator with {int(songs):,} library songs of 100,000 (uploads and songs without a "
        f"catalog id aside): generated in median {statistics.median(samples):.2f} s, "
        f"min {min(samples):.2f} s, max {max(samples):.2f} s (3 fresh interpreters)"
    )


if __name__ == "__main__":
    main()
