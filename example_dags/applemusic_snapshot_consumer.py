"""Runs whenever a new library snapshot lands in S3 (scheduled on the export's asset)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset, task

with DAG(
    dag_id="applemusic_snapshot_consumer",
    schedule=[Asset("s3://applemusic-exports/albums/snapshot")],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    tags=["apple-music", "example"],
) as dag:

    @task
    def announce(**context: object) -> None:
        """Log which asset events triggered this run."""
        print("new snapshot:", context.get("triggering_asset_events"))

    announce()
