"""Deployment tier: a create-playlist task that fails after creating, then is retried by Airflow."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_applemusic.operators.playlists import CreateLibraryPlaylistOperator

with DAG(
    dag_id="deployment_playlist_retry",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"songs": Param([], type="array")},
    render_template_as_native_obj=True,
    tags=["apple-music", "deployment-test"],
):
    # the tier makes new playlists appear only after longer than appearance_timeout: the first
    # try creates the playlist, then fails waiting for it; the retries must not create another
    CreateLibraryPlaylistOperator(
        task_id="create",
        name="Retried playlist",
        tracks="{{ params.songs }}",
        if_exists="create",
        appearance_timeout=2,
        retries=4,
        retry_delay=dt.timedelta(seconds=1),
    )
