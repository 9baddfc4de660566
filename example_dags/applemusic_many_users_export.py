"""
Export many users' Apple Music libraries on one developer key: one mapped task per user.

Each user has an ``apple_music`` connection of their own: the same Team ID, Key ID and key (so
the same developer key and its one rate limit), and that user's Music User Token. The run maps
one export task over the connections; each writes the user's library albums to
``s3://<bucket>/library-albums/<run id>/<connection id>.jsonl``.

Which connections a run exports: the run's conf ``{"apple_music_conn_ids": [...]}``, else the
Airflow Variable ``applemusic_user_conn_ids`` (a JSON list), else ``["apple_music_default"]``.
The bucket comes from the Variable ``applemusic_bucket`` (default ``applemusic-exports``).

The users share the key's limit: the tasks run in the ``apple_music`` pool (its slots bound how
many exports page at once), and the connections' request budget (extras
``requests_per_second``, ``budget_store``; see docs/scaling.md) holds every task on the key to
the rate the key allows::

    airflow pools set apple_music 4 "Apple Music API"
    airflow variables set applemusic_user_conn_ids '["apple_music_alice", "apple_music_bob"]'
    airflow dags trigger applemusic_many_users_export
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, Variable, task

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

BUCKET = "{{ var.value.get('applemusic_bucket', 'applemusic-exports') }}"
CONN_IDS_VARIABLE = "applemusic_user_conn_ids"
DEFAULT_CONN_IDS = ["apple_music_default"]


def checked_conn_ids(value: Any, source: str) -> list[str]:
    """
    The connection ids to export, checked: a non-empty list of distinct, non-empty strings.

    :param value: what the conf or the Variable held.
    :param source: where it came from, for the error.
    """
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(conn_id, str) and conn_id.strip() for conn_id in value)
    ):
        raise ValueError(
            f"{source} must be a non-empty JSON list of apple_music connection ids, got {value!r}"
        )
    if len(set(value)) != len(value):
        raise ValueError(f"{source} names a connection more than once: {value!r}")
    return [conn_id.strip() for conn_id in value]


with DAG(
    dag_id="applemusic_many_users_export",
    description="Many users' Apple Music libraries to S3, one mapped task per user, one key",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "apple_music_conn_ids": Param(
            None,
            type=["null", "array"],
            items={"type": "string"},
            description="apple_music connections to export (default: Variable "
            f"{CONN_IDS_VARIABLE}, else {DEFAULT_CONN_IDS})",
        )
    },
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=1)},
    tags=["apple-music", "example"],
) as dag:

    @task
    def user_connections(params: dict[str, Any]) -> list[str]:
        """The connections this run exports: the run's conf, the Variable, or the default."""
        if params.get("apple_music_conn_ids") is not None:
            return checked_conn_ids(params["apple_music_conn_ids"], "conf 'apple_music_conn_ids'")
        stored = Variable.get(CONN_IDS_VARIABLE, default=None, deserialize_json=True)
        if stored is None:
            return list(DEFAULT_CONN_IDS)
        return checked_conn_ids(stored, f"Variable {CONN_IDS_VARIABLE}")

    LibraryAlbumsToS3Operator.partial(
        task_id="export_user_library",
        s3_bucket=BUCKET,
        s3_key="library-albums/{{ run_id }}/{{ task.apple_music_conn_id }}.jsonl",
        pool="apple_music",
        map_index_template="{{ task.apple_music_conn_id }}",
    ).expand(apple_music_conn_id=user_connections())
