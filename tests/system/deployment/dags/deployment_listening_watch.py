"""Deployment tier: the play ledger, run by an asset watcher (RecentlyPlayedTrigger) on new plays."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher

from airflow_provider_applemusic.operators.listening_history import ListeningHistoryOperator
from airflow_provider_applemusic.triggers.recently_played import RecentlyPlayedTrigger

#: the watcher's asset: an event each time new plays show in the recent-plays list
PLAYED = Asset(
    name="deployment_plays_played",
    uri="applemusic://history/played",
    watchers=[
        AssetWatcher(
            name="deployment_plays_watcher",
            trigger=RecentlyPlayedTrigger(
                apple_music_conn_id="apple_music_default",
                poll_interval=float(os.environ.get("APPLEMUSIC_WATCH_POLL_SECONDS", "300")),
            ),
        )
    ],
)
#: the ledger; its state keeps the list the last run read
LEDGER = Asset(name="deployment_plays_ledger", uri="applemusic://history/deployment-ledger")

with DAG(
    dag_id="deployment_listening_watch",
    schedule=[PLAYED],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["apple-music", "deployment-test"],
):
    ListeningHistoryOperator(
        task_id="record_plays",
        path="s3://applemusic-deployment/plays-watch",
        ledger=LEDGER,
    )
