"""
A listening history the API does not keep: every 15 minutes, the plays since the last run.

The API holds only the newest 50 plays, without times. Each run of this DAG reads them, works
out which are new since the list the previous run read (kept in the state of the ledger asset
``applemusic_listening_history``; a replayed song counts, a retry or a briefly older order
records nothing twice, more than 50 plays between two runs leaves a ``gap`` row) and appends
them to a Parquet ledger on S3, one file per run:
``plays/date=YYYY-MM-DD/<run id>.parquet``. Each row has the two poll times between which the
song was played and an estimated time of play. Runs that find nothing new write nothing.

Runs of the ledger must not overlap (``max_active_runs=1``; the operator also sets
``max_active_tis_per_dag=1``). The first run records every play the list holds. To run only
when something was played, schedule on an asset watched by ``RecentlyPlayedTrigger`` instead
of the 15-minute cron. The bucket is the Airflow Variable ``applemusic_bucket`` (default
``applemusic-exports``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset

from airflow_provider_applemusic.operators.listening_history import ListeningHistoryOperator

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"

#: the ledger: its state keeps the list read last (``applemusic.played``); each event's extra
#: names the file written and the count
LEDGER = Asset(name="applemusic_listening_history", uri="applemusic://history/plays")

with DAG(
    dag_id="applemusic_listening_history",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["apple-music", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_operator_listening_history]
    ListeningHistoryOperator(
        task_id="record_plays",
        path=f"s3://{BUCKET}/plays",
        file_format="parquet",
        ledger=LEDGER,
        pool="apple_music",
        retries=2,
    )
    # [END howto_operator_listening_history]
