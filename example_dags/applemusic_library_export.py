"""
Daily export of the Apple Music library to S3: one file of each day's additions, and a snapshot.

Backfill a range of days (runs share the API's rate limit through the ``apple_music`` pool)::

    airflow pools set apple_music 2 "Apple Music API"
    airflow backfill create --dag-id applemusic_library_export \\
        --from-date 2024-03-01 --to-date 2024-03-31

The bucket comes from the Airflow Variable ``applemusic_bucket`` (default ``applemusic-exports``).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, Asset
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"
#: consumers can schedule on this asset: it is updated by every snapshot
SNAPSHOT_ASSET = Asset("s3://applemusic-exports/albums/snapshot")

with DAG(
    dag_id="applemusic_library_export",
    description="Apple Music library albums to S3, daily",
    # runs at midnight UTC for the day that just ended: data interval [day, day + 1)
    schedule=CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=dt.timedelta(days=1)),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args={
        "pool": "apple_music",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=2),
        "apple_music_conn_id": "apple_music_default",
        "aws_conn_id": "aws_default",
    },
    tags=["apple-music", "example"],
) as dag:
    export_additions = LibraryAlbumsToS3Operator(
        task_id="export_additions",
        s3_bucket=BUCKET,
        s3_key="albums/added/{{ data_interval_start | ds }}.jsonl",
        added_after="{{ data_interval_start }}",
        added_before="{{ data_interval_end }}",
    )
    export_snapshot = LibraryAlbumsToS3Operator(
        task_id="export_snapshot",
        s3_bucket=BUCKET,
        s3_key="albums/snapshot/{{ data_interval_end | ds }}.jsonl.gz",
        compression="gzip",
        include=["catalog"],
        outlets=[SNAPSHOT_ASSET],
    )
