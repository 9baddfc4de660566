"""
Daily export of the Apple Music library to S3: one file of each day's additions, and a snapshot.

Which albums a run exports (by their ``dateAdded``):

* a run with a logical date D (scheduled, backfilled, or triggered with a logical date) exports
  the day [D, D + 1 day) to ``albums/added/<D>.jsonl``; the scheduled run for day D starts at
  D + 1 day, once the day is over;
* a run without a logical date (the UI's Trigger button, ``airflow dags trigger`` without
  ``--logical-date``) exports the 24 hours before it was triggered, [run_after - 1 day,
  run_after), to ``albums/added/manual/<run id>.jsonl``: no other run writes that file.

The snapshot is the whole library as it is now (the API has no history): it is named by when it
was taken, ``albums/snapshot/<UTC time>.jsonl.gz``, and skipped in backfill runs.

Backfill March 2024 (the dates are the logical dates, the days exported; runs share the API's
rate limit through the ``apple_music`` pool)::

    airflow pools set apple_music 2 "Apple Music API"
    airflow backfill create --dag-id applemusic_library_export \\
        --from-date 2024-03-01 --to-date 2024-03-31

The bucket comes from the Airflow Variable ``applemusic_bucket`` (default ``applemusic-exports``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, CronDataIntervalTimetable
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"
#: consumers schedule on this asset; each event's extra says where the snapshot is
#: (``uri``, ``count``, ``bytes``, ``format``, ``compression``, ``resource``)
SNAPSHOT_ASSET = Asset(name="applemusic_library_albums_snapshot", uri="applemusic://library/albums/snapshot")
DAY = dt.timedelta(days=1)


def added_window(dag_run: Any) -> tuple[dt.datetime, dt.datetime]:
    """
    The ``dateAdded`` window a run exports: its logical day, else the day before it ran.

    :param dag_run: the run (``dag_run`` in the template context).
    """
    if dag_run.logical_date is not None:
        return dag_run.logical_date, dag_run.logical_date + DAY
    return dag_run.run_after - DAY, dag_run.run_after


def additions_key(dag_run: Any) -> str:
    """
    The S3 key of a run's additions: one per logical day, one per run without a logical date.

    :param dag_run: the run (``dag_run`` in the template context).
    """
    if dag_run.logical_date is not None:
        return f"albums/added/{dag_run.logical_date:%Y-%m-%d}.jsonl"
    return f"albums/added/manual/{dag_run.run_id}.jsonl"


def snapshot_key() -> str:
    """The S3 key of a snapshot taken now."""
    return f"albums/snapshot/{pendulum.now('UTC'):%Y-%m-%dT%H%M%SZ}.jsonl.gz"


def skip_snapshot_in_backfills(context: Any) -> None:
    """
    Skip the snapshot in backfill runs: it would hold today's library, not the backfilled day's.

    :param context: the task's context.
    """
    if context["dag_run"].run_type == "backfill":
        raise AirflowSkipException(
            "Skipping the snapshot in a backfill run: the API has no history, a snapshot is of "
            "the library now, not of the backfilled day"
        )


with DAG(
    dag_id="applemusic_library_export",
    description="Apple Music library albums to S3, daily",
    # data interval [day, day + 1), logical date = day; the run starts at midnight UTC after it
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    user_defined_macros={
        "added_window": added_window,
        "additions_key": additions_key,
        "snapshot_key": snapshot_key,
    },
    default_args={
        "pool": "apple_music",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=2),
        "apple_music_conn_id": "apple_music_default",
        "aws_conn_id": "aws_default",
    },
    tags=["apple-music", "example"],
) as dag:
    # [START howto_operator_library_albums_to_s3]
    export_additions = LibraryAlbumsToS3Operator(
        task_id="export_additions",
        s3_bucket=BUCKET,
        s3_key="{{ additions_key(dag_run) }}",
        added_after="{{ added_window(dag_run)[0].isoformat() }}",
        added_before="{{ added_window(dag_run)[1].isoformat() }}",
    )
    # [END howto_operator_library_albums_to_s3]
    # [START howto_operator_library_albums_to_s3_snapshot]
    export_snapshot = LibraryAlbumsToS3Operator(
        task_id="export_snapshot",
        s3_bucket=BUCKET,
        s3_key="{{ snapshot_key() }}",
        compression="gzip",
        include=["catalog"],
        outlets=[SNAPSHOT_ASSET],
        pre_execute=skip_snapshot_in_backfills,
    )
    # [END howto_operator_library_albums_to_s3_snapshot]
