"""
Benchmark: what importing the provider's operator and sensor modules adds over ``airflow.sdk``.

The DAG processor imports DAG files again and again; the target is at most 50 ms. Each sample
is a fresh interpreter. Run: ``.venv/bin/python benchmarks/import_time.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

PROBE = """
import sys, time
import airflow.sdk
before = set(sys.modules)
started = time.perf_counter()
import airflow_provider_applemusic.operators.library_albums_to_s3
import airflow_provider_applemusic.operators.add_to_library
import airflow_provider_applemusic.sensors.library_items
elapsed = time.perf_counter() - started
heavy = [m for m in ("requests", "jwt", "boto3", "airflow.providers.amazon.aws.hooks.s3")
         if m in sys.modules and m not in before]
print(elapsed * 1000, ",".join(heavy))
"""


def main() -> None:
    samples = []
    heavy = ""
    for _ in range(7):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
        value, _, heavy = out.stdout.strip().splitlines()[-1].partition(" ")
        samples.append(float(value))
    print(
        f"import of operators and sensor over airflow.sdk: median {statistics.median(samples):.1f} ms, "
        f"min {min(samples):.1f} ms, max {max(samples):.1f} ms (7 fresh interpreters; target <= 50 ms)"
    )
    print(f"heavy modules pulled in at import: {heavy or 'none'}")


if __name__ == "__main__":
    main()
