"""Each example DAG runs through ``dag.test()`` against the emulator and moto's S3 server."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.dates import date_added, parse_instant
from tests.support import ROOT, xcom_value

if TYPE_CHECKING:
    import pytest

EXAMPLES = ROOT / "example_dags"


def _load_example(load_dag: Any, name: str) -> Any:
    return load_dag(name, (EXAMPLES / f"{name}.py").read_text())


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
            .where(AssetEvent.source_dag_id == run.dag_id)
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


def test_listening_history_appends_the_new_plays_to_a_parquet_ledger(
    start_emulator: Any,
    s3_bucket: Any,
    load_dag: Any,
    apple_music_pool: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    import pyarrow.parquet as pq
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    emulator = start_emulator(albums=20, songs=200, history=15)
    bucket = s3_bucket.bucket_name
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", bucket)
    dag = _load_example(load_dag, "applemusic_listening_history")
    first = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)
    run = dag.test(logical_date=first, run_after=first)
    assert run.state == DagRunState.SUCCESS
    assert xcom_value(run, "record_plays")["count"] == 15
    last = emulator.library_items("recently-played-tracks", extend=())[-1]
    emulator.play(last["type"], last["id"])
    later = first + dt.timedelta(minutes=15)
    run = dag.test(logical_date=later, run_after=later)
    result = xcom_value(run, "record_plays")
    assert (result["count"], result["plays"]) == (1, 1)
    key = result["uri"].removeprefix(f"s3://{bucket}/")
    assert key == "plays/date=2024-06-01/manual__2024-06-01T12_15_00_00_00.parquet"
    table = pq.read_table(io.BytesIO(s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read()))
    assert table.column("id").to_pylist() == [last["id"]]
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "applemusic_listening_history")
            .where(AssetEvent.source_dag_id == run.dag_id)
            .where(AssetEvent.source_run_id == run.run_id)
        ).all()
    assert [event.extra for event in events] == [result]


def test_import_history_writes_the_exports_plays_to_the_ledger_once(
    s3_bucket: Any, load_dag: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import os

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    from airflow_provider_applemusic.emulator.privacy_export import write_privacy_export

    bucket = s3_bucket.bucket_name
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", bucket)
    export = write_privacy_export(str(tmp_path), rows=800, variant="2023", container="split")
    for part in export.files:
        s3_bucket.upload_file(part, bucket, f"privacy/{os.path.basename(part)}")
    dag = _load_example(load_dag, "applemusic_import_history")
    first = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)
    run = dag.test(logical_date=first, run_after=first)
    assert run.state == DagRunState.SUCCESS
    result = xcom_value(run, "import_history")
    assert result["plays_written"] == export.truth.play_count
    assert result["skipped"] == dict(sorted(export.truth.skipped.items()))
    keys = [o["Key"] for o in s3_bucket.list_objects_v2(Bucket=bucket, Prefix="plays/")["Contents"]]
    assert len(keys) == result["files"] and all(
        re.fullmatch(r"plays/date=[\d-]+/.+\.parquet", k) for k in keys
    )
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "applemusic_listening_history")
            .where(AssetEvent.source_dag_id == run.dag_id)
            .where(AssetEvent.source_run_id == run.run_id)
        ).all()
    assert [event.extra for event in events] == [result]
    later = first + dt.timedelta(days=1)
    again = dag.test(logical_date=later, run_after=later)
    assert xcom_value(again, "import_history")["plays_written"] == 0
