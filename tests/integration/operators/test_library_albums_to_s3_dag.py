"""The exporter in real DAG runs (``dag.test()``): daily backfill windows, templated keys."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from airflow_provider_applemusic.api.dates import date_added, parse_instant

DAG_SOURCE = """
import os

import datetime as dt

import pendulum
from airflow.sdk import DAG
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

with DAG(
    "{dag_id}",
    schedule=CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=dt.timedelta(days=1)),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=True,
) as dag:
    LibraryAlbumsToS3Operator(
        task_id="export_day",
        s3_bucket="{bucket}",
        s3_key="albums/{{{{ data_interval_start | ds }}}}.jsonl",
        added_after="{{{{ data_interval_start }}}}",
        added_before="{{{{ data_interval_end }}}}",
    )
"""


def _added_between(emulator: Any, start: Any, end: Any) -> list[dict[str, Any]]:
    start, end = parse_instant(start, param="start"), parse_instant(end, param="end")
    assert start is not None and end is not None
    return [a for a in emulator.library() if (d := date_added(a)) is not None and start <= d < end]


def test_backfill_run_writes_exactly_that_days_additions_and_reruns_identically(
    start_emulator: Any, s3_bucket: Any, load_dag: Any
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=3000)
    bucket = s3_bucket.bucket_name
    dag = load_dag(
        "applemusic_backfill_test", DAG_SOURCE.format(dag_id="applemusic_backfill_test", bucket=bucket)
    )
    logical_date = dt.datetime(2024, 3, 5, tzinfo=dt.timezone.utc)
    run = dag.test(logical_date=logical_date)
    assert run.state == DagRunState.SUCCESS
    # Airflow 3: the daily run of logical date 2024-03-05 covers [2024-03-04, 2024-03-05)
    assert (run.data_interval_end - run.data_interval_start) == dt.timedelta(days=1)
    key = f"albums/{run.data_interval_start.date().isoformat()}.jsonl"
    first = s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read()
    expected = _added_between(emulator, run.data_interval_start, run.data_interval_end)
    assert expected
    assert [json.loads(line) for line in first.decode().splitlines()] == expected

    run = dag.test(logical_date=logical_date, run_after=logical_date + dt.timedelta(days=1, minutes=1))
    assert run.state == DagRunState.SUCCESS
    assert s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read() == first
