"""Deployment tier: the export engine writes the library's songs to S3 as Parquet."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

with DAG(
    dag_id="deployment_export_songs_parquet",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    tags=["apple-music", "deployment-test"],
):
    AppleMusicExportOperator(
        task_id="songs",
        resource="library-songs",
        path="s3://applemusic-deployment/songs/{{ run_id | replace(':', '_') }}.parquet",
        file_format="parquet",
        compression="zstd",
    )
