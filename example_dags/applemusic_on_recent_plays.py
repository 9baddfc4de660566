"""
The listening history, recorded only when something was played: instead of polling every 15
minutes (``applemusic_listening_history``), the DAG is scheduled on an asset that
``RecentlyPlayedTrigger`` watches on the triggerer. Each event starts a run that appends the new
plays to a ledger of its own (two DAGs must never share one ledger).

Asset-triggered runs have no logical date; the operator names each file by the run's id. The
watcher polls only while this DAG is unpaused.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher

from airflow_provider_applemusic.operators.listening_history import ListeningHistoryOperator
from airflow_provider_applemusic.triggers.recently_played import RecentlyPlayedTrigger

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"
POLL_SECONDS = float(os.environ.get("APPLEMUSIC_WATCH_POLL_SECONDS", "300"))

# [START howto_trigger_recently_played]
#: the watcher's asset: an event each time something new was played
RECENTLY_PLAYED = Asset(
    name="applemusic_recently_played",
    uri="applemusic://history/recently-played",
    watchers=[
        AssetWatcher(
            name="applemusic_recently_played_watcher",
            trigger=RecentlyPlayedTrigger(
                apple_music_conn_id="apple_music_default", poll_interval=POLL_SECONDS
            ),
        )
    ],
)
# [END howto_trigger_recently_played]
#: this DAG's ledger: its state keeps the list read last
LEDGER = Asset(name="applemusic_listening_history_on_play", uri="applemusic://history/plays-on-play")

with DAG(
    dag_id="applemusic_on_recent_plays",
    schedule=[RECENTLY_PLAYED],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["apple-music", "example"],
    doc_md=__doc__,
) as dag:
    ListeningHistoryOperator(
        task_id="record_plays",
        path=f"s3://{BUCKET}/plays-on-play",
        file_format="parquet",
        ledger=LEDGER,
        pool="apple_music",
    )
