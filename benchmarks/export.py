"""
Benchmark of the export engine; prints its figures from one run (nothing here is asserted).

Albums (``LibraryAlbumsToS3Operator``, the figures quoted in docs/performance.md):

1. Fetch speed, 20,000 albums, emulator with 30 ms latency: the operator's concurrent pager
   against a sequential loop following ``next`` with ``limit=100`` re-applied, and against one
   following ``next`` verbatim (25 a page). Requests made by each.
2. Throughput with the emulator throttling at 20 requests a second.
3. Peak RSS of the exporting process (emulator and S3 in other processes): 1,000 vs 200,000.

Songs (``AppleMusicExportOperator``, issue 12):

4. Fetch speed, 100,000 library songs at 30 ms latency: the engine
   (``AppleMusicHook(max_concurrency=8).library_pager("library-songs", pages_in_flight=8)``)
   against the sequential loop following ``next`` with ``limit=100`` (and ``extend=dateAdded``,
   which the engine also asks for) re-applied; both times, requests, engine/sequential (goal <= 0.20).
5. Peak RSS of the exporting process (a fresh child; emulator and moto's S3 in their own
   processes), 200,000 songs against 1,000, as JSONL and as Parquet to ``s3://bench/...``,
   each without and with ``enrich=["catalog", "ratings"]`` (goal: at most 64 MiB more); the
   requests each run sent, and the row groups of the Parquet files.
6. Rows written per second and file sizes, 100,000 songs, emulator latency 0, to a local file:
   JSONL, JSONL gzip, Parquet snappy, Parquet zstd. Printed twice: the whole operator run
   (fetch over loopback HTTP + encode + write), and encode + write alone on songs fetched
   beforehand; the fetch alone is printed too, for scale.

0. Fetch span (first request to last answer, as the emulator saw them: ``GET /emulator/stats``),
   20,000 albums at 30 ms latency, each on a fresh emulator: ``LibraryAlbumsToS3Operator`` (8 in
   flight, JSONL to moto's S3 in its own process, checkpointing into a task state store whose
   writes take 5 ms), the hook (``iter_library(...,
   pages_in_flight=8)``) and the sequential loop (``limit=100`` re-applied); both ratios to the
   sequential loop (goals: operator <= 0.20, hook <= 0.16), and the latency bound
   (requests / 8 in flight x one request's time).

Run: ``.venv/bin/python benchmarks/export.py`` (``--quick`` for smaller sizes; ``--only`` for
some sections: ``albums``, ``songs-speed``, ``songs-rss``, ``formats``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from local_servers import airflow_env, emulator_process, s3_process

SECTIONS = ("spans", "albums", "songs-speed", "songs-rss", "formats")
#: (label, file_format, compression, suffix) of the encodings compared in the formats section
ENCODINGS = (
    ("JSONL", "jsonl", None, "jsonl"),
    ("JSONL gzip", "jsonl", "gzip", "jsonl.gz"),
    ("Parquet snappy", "parquet", "snappy", "parquet"),
    ("Parquet zstd", "parquet", "zstd", "parquet"),
)


def _session_headers() -> tuple[str, dict[str, str]]:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    hook = AppleMusicHook()
    headers = {
        "Authorization": f"Bearer {hook.get_developer_token()}",
        "Music-User-Token": hook.settings.require_user_token(),
    }
    return hook.settings.base_url, headers


def sequential(
    verbatim: bool, listing: str = "/v1/me/library/albums", reapply: dict[str, str] | None = None
) -> tuple[int, int, float]:
    """
    The loop a user writes by hand: follow ``next``; unless verbatim, re-apply ``limit=100``
    (and ``reapply``, the other parameters of the first request) to every page.
    """
    import requests

    base, headers = _session_headers()
    first = {"limit": "100", **(reapply or {})}
    session = requests.Session()
    started = time.monotonic()
    path: str | None = listing
    params: dict[str, str] | None = first
    items = requests_made = 0
    while path:
        body = session.get(base + path, params=params, headers=headers, timeout=30).json()
        requests_made += 1
        items += len(body["data"])
        path = body.get("next")
        params = None if verbatim else first
    return items, requests_made, time.monotonic() - started


def concurrent(resource: str = "library-albums", max_concurrency: int = 8) -> tuple[int, int, float, Any]:
    """The provider's paging engine, as the operators run it."""
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    hook = AppleMusicHook(max_concurrency=max_concurrency)
    hook.get_developer_token()
    pager = hook.library_pager(resource, page_size=100, pages_in_flight=max_concurrency)
    started = time.monotonic()
    items = sum(len(page) for page in pager)
    return items, pager.stats.requests, time.monotonic() - started, hook.concurrency.stats


class CheckpointStore:
    """
    Stands for the task state store in the exporting child: each ``set`` goes through JSON and
    takes 5 ms, more than a round trip to the supervisor and the API server, so that the
    checkpoints' cost is in the figures.
    """

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes = 0

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    def set(self, key: str, value: Any, **_: Any) -> None:
        time.sleep(0.005)
        self.values[key] = json.dumps(value)
        self.writes += 1

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


class FirstTry:
    """The ``ti`` of the context: the first try of a task with retries left."""

    try_number = 1


def child_export(kind: str) -> None:
    """
    Run inside a fresh process: export to S3 and print the peak RSS as JSON. ``kind`` is
    ``albums`` (``LibraryAlbumsToS3Operator``) or ``songs-jsonl``/``songs-parquet``, optionally
    followed by ``-enriched`` (``AppleMusicExportOperator``, with ``enrich=["catalog", "ratings"]``).
    """
    import resource

    import boto3

    extra = json.loads(os.environ["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]
    client = boto3.client("s3", endpoint_url=extra["endpoint_url"], region_name="us-east-1")
    client.create_bucket(Bucket="bench")
    if kind == "albums":
        from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

        operator: Any = LibraryAlbumsToS3Operator(task_id="bench", s3_bucket="bench", s3_key="albums.jsonl")
    else:
        from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

        file_format = kind.removeprefix("songs-").removesuffix("-enriched")
        operator = AppleMusicExportOperator(
            task_id="bench",
            resource="library-songs",
            path=f"s3://bench/{kind}.{file_format}",
            file_format=file_format,
            enrich=["catalog", "ratings"] if kind.endswith("-enriched") else None,
        )
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    store = CheckpointStore()
    result = operator.execute({"task_state_store": store, "ti": FirstTry()})  # type: ignore[arg-type]
    figures = {
        "checkpoints": store.writes,
        "count": result.get("album_count", result.get("count")),
        "bytes": result["bytes"],
        "seconds": time.monotonic() - started,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if "parquet" in kind:  # read after the peak was taken
        import io

        import pyarrow.parquet as pq

        body = client.get_object(Bucket="bench", Key=f"{kind}.parquet")["Body"].read()
        figures["row_groups"] = pq.ParquetFile(io.BytesIO(body)).metadata.num_row_groups
    print(json.dumps(figures))


def peak_rss(count: int, kinds: tuple[str, ...] = ("albums",)) -> dict[str, dict[str, Any]]:
    """
    Peak RSS of a fresh exporting process for each of ``kinds``, against one emulator and S3;
    with the requests the emulator saw for each.
    """
    import requests

    options = {"albums": count} if kinds == ("albums",) else {"songs": count, "albums": 0}
    figures = {}
    with emulator_process(**options) as conn, s3_process() as s3_url:
        env = {**os.environ, **airflow_env(conn, s3_url)}
        stats_url = conn["host"].rstrip("/") + "/emulator/stats"
        for kind in kinds:
            before = int(requests.get(stats_url, timeout=30).json()["requests"])
            out = subprocess.run(
                [sys.executable, __file__, "--child-export", kind],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            figures[kind] = json.loads(out.stdout.strip().splitlines()[-1])
            figures[kind]["requests"] = int(requests.get(stats_url, timeout=30).json()["requests"]) - before
    return figures


def _span(conn: dict[str, Any]) -> tuple[float, int]:
    """The emulator's fetch span and request count (its control path, not counted)."""
    import requests

    stats = requests.get(conn["host"].rstrip("/") + "/emulator/stats", timeout=30).json()
    return float(stats["span_seconds"]), int(stats["requests"])


def spans(n: int) -> None:
    print(f"== fetch span as the server saw it, {n:,} albums, 30 ms latency, 8 in flight ==")
    figures: dict[str, tuple[float, int]] = {}
    with s3_process() as s3_url:
        for label in ("sequential", "hook", "operator"):
            with emulator_process(albums=n, latency_ms=30) as conn:
                os.environ.update(airflow_env(conn, s3_url))
                if label == "sequential":
                    sequential(verbatim=False)
                elif label == "hook":
                    concurrent()
                else:
                    env = {**os.environ}
                    cmd = [sys.executable, __file__, "--child-export", "albums"]
                    subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                figures[label] = _span(conn)
    seq_span, seq_requests = figures["sequential"]
    per_request = seq_span / seq_requests
    for label in ("operator", "hook", "sequential"):
        span, made = figures[label]
        print(f"{label:<11} {span:7.2f} s  {made:4d} requests  ratio to sequential {span / seq_span:.3f}")
    bound = figures["hook"][1] / 8 * per_request
    print(
        f"latency bound: {figures['hook'][1]} requests / 8 x {per_request * 1000:.0f} ms = {bound:.2f} s ",
        end="",
    )
    print(f"(ratio {bound / seq_span:.3f}); goals: operator <= 0.20, hook <= 0.16")


def albums(speed_n: int, big_n: int) -> None:
    print(f"== albums: fetch speed, {speed_n:,} albums, 30 ms latency ==")
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

    print(f"\n== albums: throttled at 20 requests/s: {speed_n // 2:,} albums, 30 ms latency ==")
    with emulator_process(albums=speed_n // 2, latency_ms=30, rate_limit=20) as conn:
        os.environ.update(airflow_env(conn))
        n_thr, r_thr, t_thr, stats = concurrent()
    print(
        f"finished: {n_thr} albums, {r_thr} pages in {t_thr:.2f} s = {r_thr / t_thr:.1f} pages/s "
        f"({100 * r_thr / t_thr / 20:.0f}% of 20/s), {stats.throttled} 429s, {stats.retries} retries"
    )

    print("\n== albums: peak RSS of the exporting process (LibraryAlbumsToS3Operator, JSONL to S3) ==")
    small, large = peak_rss(1_000)["albums"], peak_rss(big_n)["albums"]
    for label, figures in (("1,000", small), (f"{big_n:,}", large)):
        print(
            f"{label:>8} albums: peak {figures['peak_rss_kib'] / 1024:7.1f} MiB "
            f"({figures['bytes'] / 2**20:.1f} MiB written in {figures['seconds']:.1f} s)"
        )
    print(f"difference: {(large['peak_rss_kib'] - small['peak_rss_kib']) / 1024:.1f} MiB (target <= 64 MiB)")


def songs_speed(n: int) -> None:
    print(f"== songs: fetch speed, {n:,} library songs, 30 ms latency ==")
    with emulator_process(songs=n, albums=0, latency_ms=30) as conn:
        os.environ.update(airflow_env(conn))
        n_op, r_op, t_op, _ = concurrent("library-songs")
        n_seq, r_seq, t_seq = sequential(
            verbatim=False, listing="/v1/me/library/songs", reapply={"extend": "dateAdded"}
        )
    print(f"engine (8 in flight):                        {t_op:7.2f} s  {r_op:5d} requests  {n_op} songs")
    print(f"sequential, limit=100 (+extend) re-applied: {t_seq:7.2f} s  {r_seq:5d} requests  {n_seq} songs")
    print(f"engine / sequential: {t_op / t_seq:.3f} (goal <= 0.20); speed-up {t_seq / t_op:.1f}x")


def songs_rss(big_n: int) -> None:
    print("\n== songs: peak RSS of the exporting process (AppleMusicExportOperator to S3, fresh child) ==")
    kinds = ("songs-jsonl", "songs-parquet", "songs-jsonl-enriched", "songs-parquet-enriched")
    small, large = peak_rss(1_000, kinds), peak_rss(big_n, kinds)
    for kind in kinds:
        label = kind.removeprefix("songs-").replace("jsonl", "JSONL").replace("parquet", "Parquet")
        label = label.replace("-enriched", " +enrich")
        for n, figures in ((1_000, small[kind]), (big_n, large[kind])):
            groups = f", {figures['row_groups']} row groups" if "row_groups" in figures else ""
            print(
                f"{label:<16} {n:>8,} songs: peak {figures['peak_rss_kib'] / 1024:7.1f} MiB "
                f"({figures['count']:,} written, {figures['bytes'] / 2**20:.1f} MiB "
                f"in {figures['seconds']:.1f} s, {figures['requests']} requests{groups})"
            )
        diff = (large[kind]["peak_rss_kib"] - small[kind]["peak_rss_kib"]) / 1024
        print(f"{label:<16} difference {big_n:,} - 1,000: {diff:.1f} MiB (goal <= 64 MiB)")
    plain, enriched = large["songs-parquet"], large["songs-parquet-enriched"]
    print(
        f"enrichment, {big_n:,} songs as Parquet: time x{enriched['seconds'] / plain['seconds']:.2f}, "
        f"size x{enriched['bytes'] / plain['bytes']:.2f}, "
        f"requests x{enriched['requests'] / plain['requests']:.2f}"
    )


def formats(n: int) -> None:
    from airflow_provider_applemusic.files.formats import content_type, encode
    from airflow_provider_applemusic.files.location import location
    from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

    print(f"\n== songs: rows written per second and file sizes, {n:,} songs, latency 0, local file ==")
    print("(emulator on loopback with no latency and a local disk: the figures measure encoding and")
    print(" writing more than fetching; 'encode+write' leaves the fetch out entirely)")
    folder = tempfile.mkdtemp(prefix="applemusic-bench-formats-")
    with emulator_process(songs=n, albums=0) as conn:
        os.environ.update(airflow_env(conn))
        from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

        hook = AppleMusicHook(max_concurrency=8)
        pager = hook.library_pager("library-songs", pages_in_flight=8)
        started = time.monotonic()
        pages = list(pager)
        t_fetch = time.monotonic() - started
        rows = sum(len(page) for page in pages)
        print(f"fetch alone (engine, 8 in flight): {t_fetch:6.2f} s = {rows / t_fetch:9,.0f} rows/s")
        print(f"{'encoding':<15} {'size':>10}  {'operator run':>26}  {'encode+write alone':>26}")
        for label, file_format, compression, suffix in ENCODINGS:
            name = f"songs-{label.lower().replace(' ', '-')}.{suffix}"
            operator = AppleMusicExportOperator(
                task_id="bench",
                resource="library-songs",
                path=os.path.join(folder, "op-" + name),
                file_format=file_format,
                compression=compression,
            )
            started = time.monotonic()
            result = operator.execute({})  # type: ignore[arg-type]
            t_op = time.monotonic() - started
            target = location(os.path.join(folder, "enc-" + name))
            writer = target.writer(content_type(file_format, compression))
            started = time.monotonic()
            size = writer.write(encode(iter(pages), "library-songs", file_format, compression), replace=True)
            t_enc = time.monotonic() - started
            assert result["count"] == rows
            print(
                f"{label:<15} {result['bytes'] / 2**20:6.1f} MiB  "
                f"{t_op:6.2f} s {rows / t_op:9,.0f} rows/s  "
                f"{t_enc:6.2f} s {rows / t_enc:9,.0f} rows/s"
                + ("" if size == result["bytes"] else f" (encode+write size {size / 2**20:.1f} MiB)")
            )
        print(f"({rows:,} rows in each file)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run")
    parser.add_argument("--child-export", metavar="KIND", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        child_export(args.child_export)
        return
    album_speed_n = 5_000 if args.quick else 20_000
    album_big_n = 20_000 if args.quick else 200_000
    song_speed_n = 5_000 if args.quick else 100_000
    song_big_n = 10_000 if args.quick else 200_000
    format_n = 5_000 if args.quick else 100_000
    begun = time.monotonic()
    if "spans" in args.only:
        spans(album_speed_n)
        print()
    if "albums" in args.only:
        albums(album_speed_n, album_big_n)
        print()
    if "songs-speed" in args.only:
        songs_speed(song_speed_n)
    if "songs-rss" in args.only:
        songs_rss(song_big_n)
    if "formats" in args.only:
        formats(format_n)
    print(f"\n(benchmark ran {time.monotonic() - begun:.0f} s)")


if __name__ == "__main__":
    main()
