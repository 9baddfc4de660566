"""
Migrate a playlist from another service: a CSV of ISRCs in object storage becomes a library
playlist. Re-running the DAG changes nothing: the playlist of that name (created by this app)
is reused and only songs it lacks are appended.

The CSV has a header and an ``isrc`` column (other columns are ignored)::

    isrc,title
    USUM71703861,Some song

Trigger it with where the CSV is and the playlist's name::

    airflow dags trigger applemusic_migrate_playlist \\
        --conf '{"csv": "s3://my-bucket/exports/road-trip.csv", "name": "Road trip"}'

``s3://`` paths are read with the amazon provider's ``S3Hook`` (``aws_default``); other paths
(``file://``, ``gs://``...) through Airflow's ``ObjectStoragePath``.
"""

from __future__ import annotations

import csv
import io

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_applemusic.operators.playlists import CreateLibraryPlaylistOperator

with DAG(
    dag_id="applemusic_migrate_playlist",
    description="A CSV of ISRCs becomes an Apple Music library playlist, idempotently",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={
        "csv": Param("file:///tmp/applemusic/playlist.csv", type="string", description="CSV of ISRCs"),
        "name": Param("Migrated playlist", type="string", description="the playlist's name"),
    },
    tags=["apple-music", "example"],
) as dag:

    @task
    def read_isrcs(path: str) -> list[str]:
        """The ``isrc`` column of the CSV, in order (codes are checked by the next task)."""
        if path.startswith("s3://"):
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            bucket, key = S3Hook.parse_s3_url(path)
            text = S3Hook().read_key(key, bucket)
        else:
            from airflow.sdk import ObjectStoragePath

            text = ObjectStoragePath(path).read_text(encoding="utf-8")
        rows = csv.DictReader(io.StringIO(text))
        return [row["isrc"].strip() for row in rows if (row.get("isrc") or "").strip()]

    # [START howto_operator_create_library_playlist]
    CreateLibraryPlaylistOperator(
        task_id="build_playlist",
        name="{{ params.name }}",
        description="Migrated by Airflow",
        isrcs=read_isrcs("{{ params.csv }}"),
        if_exists="reuse",
        appearance_timeout=120,
    )
    # [END howto_operator_create_library_playlist]
