"""
Run when the Apple Music library changes: a snapshot of the albums, and what changed since the last.

An asset watcher (``LibraryChangedTrigger`` on the triggerer) polls a cheap fingerprint of the
library (two small requests a poll) and records an event on ``applemusic_library_changed``
whenever it moves; this DAG is scheduled on that asset. Each run

1. exports the library's albums to ``albums/watch/<run id>.jsonl.gz`` and records the snapshot
   in the state of ``applemusic_library_albums_watched`` (``applemusic.snapshot``: this
   snapshot's ``uri`` and the one before it, ``previous_uri``);
2. compares the two and writes the changes (added, removed, changed) to
   ``albums/changes/<run id>.jsonl``.

Files are named by run id: asset-triggered runs have no logical date. The watched asset is not
the snapshot asset: the export's own event would start the DAG again and again.

The first run has no snapshot to compare with and reports every album as added: trigger it once
by hand after deploying (the watcher takes its baseline without firing). The poll interval is
``APPLEMUSIC_WATCH_POLL_SECONDS`` in the environment of the DAG processor (default 300 s); the
bucket is the Airflow Variable ``applemusic_bucket`` (default ``applemusic-exports``).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher

from airflow_provider_applemusic.operators.changes import LibraryChangesOperator
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator
from airflow_provider_applemusic.triggers.library_changed import LibraryChangedTrigger

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"
POLL_SECONDS = float(os.environ.get("APPLEMUSIC_WATCH_POLL_SECONDS", "300"))

#: the watcher's asset: an event each time the library changes (the DAG is scheduled on it)
# [START howto_trigger_library_changed]
LIBRARY_CHANGED = Asset(
    name="applemusic_library_changed",
    uri="applemusic://library/changed",
    watchers=[
        AssetWatcher(
            name="applemusic_library_watcher",
            trigger=LibraryChangedTrigger(
                apple_music_conn_id="apple_music_default",
                resources=["library-albums"],
                poll_interval=POLL_SECONDS,
            ),
        )
    ],
)
# [END howto_trigger_library_changed]
#: the snapshots this DAG takes; their state holds the last two (``applemusic.snapshot``)
WATCHED_SNAPSHOT = Asset(name="applemusic_library_albums_watched", uri="applemusic://library/albums/watched")
#: the change logs; each event's extra holds the counts and the file's ``uri``
ALBUM_CHANGES = Asset(name="applemusic_library_album_changes", uri="applemusic://library/albums/changes")

with DAG(
    dag_id="applemusic_on_library_change",
    schedule=[LIBRARY_CHANGED],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["apple-music", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_operator_applemusic_export]
    snapshot = AppleMusicExportOperator(
        task_id="export_snapshot",
        resource="library-albums",
        path=f"s3://{BUCKET}/albums/watch/{{{{ run_id }}}}.jsonl.gz",
        pool="apple_music",
        outlets=[WATCHED_SNAPSHOT],
    )
    # [END howto_operator_applemusic_export]
    # [START howto_operator_library_changes]
    changes = LibraryChangesOperator(
        task_id="write_changes",
        snapshot_asset=WATCHED_SNAPSHOT,
        path=f"s3://{BUCKET}/albums/changes/{{{{ run_id }}}}.jsonl",
        outlets=[ALBUM_CHANGES],
    )
    # [END howto_operator_library_changes]
    snapshot >> changes
