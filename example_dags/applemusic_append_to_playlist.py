"""
Append songs to a library playlist the app made, idempotently: only the songs the playlist lacks
are appended, and a try that failed after the service may have applied the append reads the
playlist back instead of appending twice.

Trigger it with the playlist and the songs (library song ids ``i.…`` and catalog song ids)::

    airflow dags trigger applemusic_append_to_playlist \\
        --conf '{"playlist_id": "p.AbC123", "tracks": ["i.XyZ789", "1440857781"]}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_applemusic.operators.playlists import AddTracksToPlaylistOperator

with DAG(
    dag_id="applemusic_append_to_playlist",
    description="Append the songs an Apple Music library playlist lacks",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={
        "playlist_id": Param("p.example", type="string", description="a playlist this app created"),
        "tracks": Param([], type="array", description="library song ids and catalog song ids, in order"),
    },
    # params.tracks renders as a list, not as its text
    render_template_as_native_obj=True,
    tags=["apple-music", "example"],
) as dag:
    # [START howto_operator_add_tracks_to_playlist]
    AddTracksToPlaylistOperator(
        task_id="append_tracks",
        playlist_id="{{ params.playlist_id }}",
        tracks="{{ params.tracks }}",
        retries=2,
    )
    # [END howto_operator_add_tracks_to_playlist]
