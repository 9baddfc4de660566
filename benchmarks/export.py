"""
Benchmark of LibraryAlbumsToS3Operator; prints its figures (nothing here is asserted).

1. Fetch speed, 20,000 albums, emulator with 30 ms latency: the operator's concurrent pager
   against a sequential loop following ``next`` with ``limit=100`` re-applied, and against one
   following ``next`` verbatim (25 a page). Requests made by each.
2. Peak RSS of the exporting process (emulator and S3 in other processes): 1,000 vs 200,000.
3. Throughput with the emulator throttling at 20 requests a second.

Run: ``.venv/bin/python benchmarks/export.py`` (``--quick`` for smaller sizes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from local_servers import airflow_env, emulator_process, s3_process


def _session_headers() -> tuple[str, dict[str, str]]:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    hook = AppleMusicHook()
    headers = {
        "Authorization": f"Bearer {hook.get_developer_token()}",
        "Music-User-Token": hook.settings.require_user_token(),
    }
    return hook.settings.base_url, headers


def sequential(verbatim: bool) -> tuple[int, int, float]:
    """The loop a user writes by hand: follow ``next``; re-apply ``limit=100`` unless verbatim."""
    import requests

    base, headers = _session_headers()
    session = requests.Session()
    started = time.monotonic()
    path: str | None = "/v1/me/library/albums?limit=100"
    albums = requests_made = 0
    while path:
        params = None if verbatim or path.endswith("limit=100") else {"limit": "100"}
        body = session.get(base + path, params=params, headers=headers, timeout=30).json()
        requests_made += 1
        albums += len(body["data"])
        path = body.get("next")
    return albums, requests_made, time.monotonic() - started


def concurrent(max_concurrency: int = 8) -> tuple[int, int, float, Any]:
    """The operator's pager, as the operator runs it."""
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    hook = AppleMusicHook(max_concurrency=max_concurrency)
    hook.get_developer_token()
    pager = hook.library_pager("library-albums", page_size=100, pages_in_flight=max_concurrency)
    started = time.monotonic()
    albums = sum(len(page) for page in pager)
    return albums, pager.stats.requests, time.monotonic() - started, hook.concurrency.stats


def child_export() -> None:
    """Run inside a fresh process: export to S3 and print the peak RSS as JSON."""
    import resource

    import boto3

    from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

    extra = json.loads(os.environ["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]
    client = boto3.client("s3", endpoint_url=extra["endpoint_url"], region_name="us-east-1")
    client.create_bucket(Bucket="bench")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = LibraryAlbumsToS3Operator(task_id="bench", s3_bucket="bench", s3_key="albums.jsonl").execute(
        {}  # type: ignore[arg-type]
    )
    print(
        json.dumps(
            {
                "albums": result["album_count"],
                "bytes": result["bytes"],
                "seconds": time.monotonic() - started,
                "baseline_rss_kib": baseline,
                "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def peak_rss(albums: int) -> dict[str, Any]:
    with emulator_process(albums=albums) as conn, s3_process() as s3_url:
        env = {**os.environ, **airflow_env(conn, s3_url)}
        out = subprocess.run(
            [sys.executable, __file__, "--child-export"], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--child-export", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        child_export()
        return
    speed_n = 5_000 if args.quick else 20_000
    big_n = 20_000 if args.quick else 200_000

    print(f"== fetch speed: {speed_n} albums, 30 ms latency ==")
    with emulator_process(albums=speed_n, latency_ms=30) as conn:
        os.environ.update(airflow_env(conn))
        n_op, r_op, t_op, _ = concurrent()
        n_seq, r_seq, t_seq = sequential(verbatim=False)
        n_verb, r_verb, t_verb = sequential(verbatim=True)
    print(f"operator (8 in flight):        {t_op:7.2f} s  {r_op:5d} requests  {n_op} albums")
    print(f"sequential, limit re-applied:  {t_seq:7.2f} s  {r_seq:5d} requests  {n_seq} albums")
    print(f"sequential, next verbatim:     {t_verb:7.2f} s  {r_verb:5d} requests  {n_verb} albums")
    print(f"speed-up vs limit re-applied:  {t_seq / t_op:5.1f}x (target >= 5x)")
    print(f"speed-up vs next verbatim:     {t_verb / t_op:5.1f}x (target >= 20x)")
    print(f"requests: {r_op} for ceil(N/100) = {math.ceil(speed_n / 100)}")

    print(f"\n== throttled at 20 requests/s: {speed_n // 2} albums, 30 ms latency ==")
    with emulator_process(albums=speed_n // 2, latency_ms=30, rate_limit=20) as conn:
        os.environ.update(airflow_env(conn))
        n_thr, r_thr, t_thr, stats = concurrent()
    print(
        f"finished: {n_thr} albums, {r_thr} pages in {t_thr:.2f} s = {r_thr / t_thr:.1f} pages/s "
        f"({100 * r_thr / t_thr / 20:.0f}% of 20/s), {stats.throttled} 429s, {stats.retries} retries"
    )

    print("\n== peak RSS of the exporting process ==")
    small, large = peak_rss(1_000), peak_rss(big_n)
    for label, figures in (("1,000", small), (f"{big_n:,}", large)):
        print(
            f"{label:>8} albums: peak {figures['peak_rss_kib'] / 1024:7.1f} MiB "
            f"({figures['bytes'] / 2**20:.1f} MiB written in {figures['seconds']:.1f} s)"
        )
    print(f"difference: {(large['peak_rss_kib'] - small['peak_rss_kib']) / 1024:.1f} MiB (target <= 64 MiB)")


if __name__ == "__main__":
    main()
