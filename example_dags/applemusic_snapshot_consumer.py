"""
Runs whenever a new library snapshot lands in S3 (scheduled on the export's asset).

The snapshot's name changes with every run, so the consumer finds it through the asset event:
the export puts ``{"uri", "resource", "count", "bytes", "format", "compression"}`` in each
event's extra.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

#: the asset the export's snapshot task updates (same name and URI as in applemusic_library_export)
SNAPSHOT_ASSET = Asset(name="applemusic_library_albums_snapshot", uri="applemusic://library/albums/snapshot")

with DAG(
    dag_id="applemusic_snapshot_consumer",
    schedule=[SNAPSHOT_ASSET],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    tags=["apple-music", "example"],
) as dag:

    @task
    def read_snapshot(*, triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """Open each snapshot named by the triggering events and log what it holds."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        s3 = S3Hook(aws_conn_id="aws_default")
        summaries = []
        for event in triggering_asset_events[SNAPSHOT_ASSET]:
            extra = event.extra
            bucket, key = S3Hook.parse_s3_url(extra["uri"])
            body = s3.get_key(key, bucket).get()["Body"].read()
            if extra.get("compression") == "gzip":
                body = gzip.decompress(body)
            text = body.decode("utf-8")
            if extra.get("format") == "json":
                albums = json.loads(text)
            else:
                albums = [json.loads(line) for line in text.splitlines() if line]
            print(f"snapshot {extra['uri']}: {len(albums)} albums (the event says {extra['count']})")
            for album in albums[:3]:
                print(f"  {album['id']}  {album['attributes']['name']}")
            summaries.append({"uri": extra["uri"], "albums": len(albums), "count": extra["count"]})
        return summaries

    read_snapshot()
