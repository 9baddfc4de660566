"""
The lifetime listening history, once: Apple's privacy export into the play ledger.

Request "Apple Media Services information" at privacy.apple.com; within about a week Apple
sends a download. Put it, as it came (the zip, or the parts ``... Part 1 of 2.zip``...), under
``s3://<bucket>/privacy/`` and trigger this DAG (the ``source`` parameter names another place).
It reads the play activity as a stream, joins the segments of each listen, keeps the plays by
Last.fm's rule and writes them to the Parquet ledger ``applemusic_listening_history`` keeps
by polling (``plays/date=YYYY-MM-DD/<run id>.parquet``, one file per day played), with exact
times and ``source="privacy-export"``. Triggering it again with the same or a newer export adds
no play twice. The bucket is the Airflow Variable ``applemusic_bucket`` (default
``applemusic-exports``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset, Param

from airflow_provider_applemusic.operators.play_activity import PlayActivityImportOperator

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"

#: the same ledger as applemusic_listening_history's
LEDGER = Asset(name="applemusic_listening_history", uri="applemusic://history/plays")

with DAG(
    dag_id="applemusic_import_history",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "source": Param("", type="string", description="the export's URL (empty: s3://<bucket>/privacy/)")
    },
    tags=["apple-music", "example"],
    doc_md=__doc__,
) as dag:
    PlayActivityImportOperator(
        task_id="import_history",
        source="{{ params.source or 's3://' ~ var.value.get('applemusic_bucket', 'applemusic-exports') "
        "~ '/privacy/' }}",
        path=f"s3://{BUCKET}/plays",
        file_format="parquet",
        outlets=[LEDGER],
    )
