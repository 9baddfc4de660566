"""Deployment tier: a songs export whose task process is killed midway, resumed by the scheduler's retry."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

with DAG(
    dag_id="deployment_export_resume",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"path": Param("", type="string")},
    tags=["apple-music", "deployment-test"],
):
    # the tier's test kills the first try's task process with SIGKILL about half way through
    AppleMusicExportOperator(
        task_id="songs",
        resource="library-songs",
        path="{{ params.path }}",
        apple_music_conn_id="apple_music_resume",
        retries=2,
        retry_delay=dt.timedelta(seconds=1),
    )

with DAG(
    dag_id="deployment_export_resume_timeout",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"path": Param("", type="string")},
    tags=["apple-music", "deployment-test"],
):
    # the tier's emulator answers slowly enough that a try runs out of its execution_timeout
    # part of the way: each retry goes on from where the one before stopped
    AppleMusicExportOperator(
        task_id="songs",
        resource="library-songs",
        path="{{ params.path }}",
        apple_music_conn_id="apple_music_resume_timeout",
        execution_timeout=dt.timedelta(seconds=4),
        retries=4,
        retry_delay=dt.timedelta(seconds=1),
    )
