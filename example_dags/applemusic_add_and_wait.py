"""
Add catalog items to the Apple Music library, then wait (deferrably) until they really appear.

Trigger it with the ids to add::

    airflow dags trigger applemusic_add_and_wait --conf '{"ids": {"albums": ["1577502911"]}}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor

with DAG(
    dag_id="applemusic_add_and_wait",
    description="Add catalog items to the library and wait until they appear",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={
        "ids": Param(
            {"albums": ["1577502911"]},
            type="object",
            description="{type: [catalog ids]}: albums, songs, playlists, music-videos",
        )
    },
    tags=["apple-music", "example"],
) as dag:
    add = AddToLibraryOperator(task_id="add", ids="{{ params.ids | tojson }}")
    wait = LibraryItemsSensor(
        task_id="wait_until_in_library",
        ids=add.output,
        deferrable=True,
        poke_interval=5,
        timeout=600,
    )

    @task
    def log_library_ids(found: dict[str, dict[str, str]]) -> int:
        """Log the library id each catalog item got."""
        for kind, mapping in found.items():
            for catalog_id, library_id in mapping.items():
                print(f"{kind} {catalog_id} is in the library as {library_id}")
        return sum(len(mapping) for mapping in found.values())

    log_library_ids(wait.output)
