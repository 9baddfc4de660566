"""Each example DAG runs through ``dag.test()`` against the emulator and moto's S3 server."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
import pathlib
import re
import subprocess
import sys
import types
from typing import Any

import pytest

from airflow_provider_applemusic.api.dates import date_added, parse_instant
from tests.conftest import xcom_value

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLES = ROOT / "example_dags"


def _import_path(path: pathlib.Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_example(name: str) -> Any:
    return _import_path(EXAMPLES / f"{name}.py", f"example_{name}")


def _load_example(load_dag: Any, name: str) -> Any:
    return load_dag(name, (EXAMPLES / f"{name}.py").read_text())


@pytest.fixture
def apple_music_pool(airflow_db: str) -> None:
    from airflow.models.pool import Pool

    Pool.create_or_update_pool("apple_music", slots=4, description="Apple Music API", include_deferred=False)


def test_library_export_writes_the_logical_days_additions_and_a_snapshot(
    start_emulator: Any,
    s3_bucket: Any,
    load_dag: Any,
    apple_music_pool: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=2500)
    bucket = s3_bucket.bucket_name
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", bucket)
    dag = _load_example(load_dag, "applemusic_library_export")
    run = dag.test(logical_date=dt.datetime(2024, 3, 5, tzinfo=dt.timezone.utc))
    assert run.state == DagRunState.SUCCESS
    day = s3_bucket.get_object(Bucket=bucket, Key="albums/added/2024-03-05.jsonl")["Body"].read()
    start, end = parse_instant("2024-03-05", param="d"), parse_instant("2024-03-06", param="d")
    assert start is not None and end is not None
    expected = [a for a in emulator.library() if (d := date_added(a)) is not None and start <= d < end]
    assert expected and [json.loads(line) for line in day.splitlines()] == expected
    snapshot_uri = xcom_value(run, "export_snapshot")["s3_uri"]
    key = snapshot_uri.removeprefix(f"s3://{bucket}/")
    assert re.fullmatch(r"albums/snapshot/\d{4}-\d\d-\d\dT\d{6}Z\.jsonl\.gz", key)
    snapshot = s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read()
    albums = [json.loads(line) for line in gzip.decompress(snapshot).splitlines()]
    assert [a["id"] for a in albums] == [a["id"] for a in emulator.library()]
    assert all("catalog" in a["relationships"] for a in albums)
    assert xcom_value(run, "export_snapshot")["album_count"] == 2500


def test_snapshot_asset_event_says_where_the_snapshot_is(
    start_emulator: Any,
    s3_bucket: Any,
    load_dag: Any,
    apple_music_pool: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    start_emulator(albums=50)
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", s3_bucket.bucket_name)
    _load_example(load_dag, "applemusic_snapshot_consumer")
    dag = _load_example(load_dag, "applemusic_library_export")
    run = dag.test(logical_date=dt.datetime(2024, 4, 2, tzinfo=dt.timezone.utc))
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "applemusic_library_albums_snapshot")
            .where(AssetEvent.source_run_id == run.run_id)
        ).all()
    assert len(events) == 1
    assert events[0].source_task_id == "export_snapshot"
    result = xcom_value(run, "export_snapshot")
    assert result["s3_uri"].startswith(f"s3://{s3_bucket.bucket_name}/albums/snapshot/")
    assert events[0].extra == {
        "uri": result["s3_uri"],
        "resource": "library-albums",
        "count": 50,
        "bytes": result["bytes"],
        "format": "jsonl",
        "compression": "gzip",
    }


def _run(run_id: str, logical_date: dt.datetime | None, run_after: dt.datetime) -> Any:
    return types.SimpleNamespace(run_id=run_id, logical_date=logical_date, run_after=run_after)


def test_export_window_follows_the_logical_date_else_the_day_before_the_run() -> None:
    module = _import_example("applemusic_library_export")
    day = dt.datetime(2024, 3, 10, tzinfo=dt.timezone.utc)
    # the CLI's --logical-date gives a data interval computed from now: only the date counts
    with_date = _run("manual__2024-03-10", day, dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc))
    assert module.added_window(with_date) == (day, day + dt.timedelta(days=1))
    assert module.additions_key(with_date) == "albums/added/2024-03-10.jsonl"
    ran = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    without = _run("manual__2026-01-02T03:04:05+00:00", None, ran)
    assert module.added_window(without) == (ran - dt.timedelta(days=1), ran)
    assert module.additions_key(without) == "albums/added/manual/manual__2026-01-02T03:04:05+00:00.jsonl"


def test_add_and_wait_default_ids_are_in_the_demo_emulators_catalog() -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    demo = _import_path(ROOT / "scripts" / "demo.py", "applemusic_demo")
    defaults = _import_example("applemusic_add_and_wait").DEFAULT_IDS
    emulator = AppleMusicEmulator(albums=demo.ALBUMS)  # the demo's seed is the default
    assert defaults
    for kind, ids in defaults.items():
        assert set(ids) <= set(emulator.catalog_ids(kind)), f"{kind} {ids} not addable in the demo"
    command = ["-m", "airflow_provider_applemusic.emulator", f"--albums={demo.ALBUMS}", "--list-catalog-ids"]
    listed = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for kind, ids in defaults.items():
        assert {f"{kind}\t{catalog_id}" for catalog_id in ids} <= set(listed)


def test_add_and_wait_logs_the_library_ids(start_emulator: Any, load_dag: Any) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=20, add_delay=2)
    albums = emulator.catalog_ids("albums")[:2]
    dag = _load_example(load_dag, "applemusic_add_and_wait")
    run = dag.test(run_conf={"ids": {"albums": albums}})
    assert run.state == DagRunState.SUCCESS
    library = emulator.library_ids("albums")
    assert xcom_value(run, "wait_until_in_library") == {"albums": {a: library[a] for a in albums}}
    assert xcom_value(run, "log_library_ids") == 2
