"""
Loved songs for a migration: the library's songs enriched with the catalog and the user's
ratings, then the loved ones (rating 1) with their ISRC as a CSV a migration tool can read.

``export_songs`` writes every library song, in the service's order, to
``songs/library-enriched.parquet`` with typed ``isrc``, ``rating`` and ``catalog_status``
columns (``AppleMusicExportOperator`` with ``enrich=["catalog", "ratings"]``: about one
catalog request per 100 songs and one ratings request per 200, besides the pages).
``loved_songs_csv`` keeps the loved songs and writes ``songs/loved.csv`` with the header
``ISRC,Title,Artist,Album`` (the columns migration tools such as Soundiiz or TuneMyMusic map):
songs without a catalog id (uploads) or whose catalog id was withdrawn have no ISRC; they are
kept, with an empty ISRC, so that they can be matched by title. The bucket is the Airflow
Variable ``applemusic_bucket`` (default ``applemusic-exports``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"
CSV_HEADER = ("ISRC", "Title", "Artist", "Album")
LOVE = 1


def loved_rows(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """The CSV rows of the loved songs among enriched Parquet ``rows``, in the library's order."""
    return [
        (row["isrc"] or "", row["name"] or "", row["artist_name"] or "", row["album_name"] or "")
        for row in rows
        if row["rating"] == LOVE
    ]


def csv_bytes(rows: list[tuple[str, str, str, str]]) -> bytes:
    """``rows`` under :data:`CSV_HEADER`, as UTF-8 CSV."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


with DAG(
    dag_id="applemusic_loved_songs",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["apple-music", "example"],
    doc_md=__doc__,
) as dag:
    export = AppleMusicExportOperator(
        task_id="export_songs",
        resource="library-songs",
        path=f"s3://{BUCKET}/songs/library-enriched.parquet",
        file_format="parquet",
        enrich=["catalog", "ratings"],
        pool="apple_music",
    )

    @task
    def loved_songs_csv(exported: dict[str, Any], bucket: str) -> dict[str, Any]:
        """Read the enriched export (five columns of it) and write the loved songs' CSV next to it."""
        import os
        import tempfile

        import pyarrow.parquet as pq

        from airflow_provider_applemusic.files.location import location

        columns = ["isrc", "name", "artist_name", "album_name", "rating"]
        with tempfile.TemporaryDirectory() as folder:
            local = os.path.join(folder, "songs.parquet")
            location(exported["uri"]).download(local)
            rows = loved_rows(pq.read_table(local, columns=columns).to_pylist())
        target = location(f"s3://{bucket}/songs/loved.csv")
        size = target.writer("text/csv").write([csv_bytes(rows)], replace=True)
        return {
            "uri": target.uri,
            "count": len(rows),
            "without_isrc": sum(1 for r in rows if not r[0]),
            "bytes": size,
        }

    loved_songs_csv(export.output, BUCKET)
