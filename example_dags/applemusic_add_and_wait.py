"""
Add catalog items to the Apple Music library, then wait (deferrably) until they really appear.

Trigger it with the ids to add::

    airflow dags trigger applemusic_add_and_wait --conf '{"ids": {"albums": ["1577502911"]}}'

The default ids are catalog albums of ``make demo``'s emulator (seed 7, 2000 albums) that are not
in its library: with the emulator started by
``python -m airflow_provider_applemusic.emulator --albums 2000`` the DAG runs as is.
``--list-catalog-ids`` prints every id it can add.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor

#: in the catalog of ``make demo``'s emulator and not in its library
DEFAULT_IDS = {"albums": ["9181209814", "7105094684"]}

with DAG(
    dag_id="applemusic_add_and_wait",
    description="Add catalog items to the library and wait until they appear",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={
        "ids": Param(
            DEFAULT_IDS,
            type="object",
            description="{type: [catalog ids]}: albums, songs, playlists, music-videos",
        )
    },
    tags=["apple-music", "example"],
) as dag:
    # [START howto_operator_add_to_library]
    add = AddToLibraryOperator(task_id="add", ids="{{ params.ids | tojson }}")
    # [END howto_operator_add_to_library]
    # [START howto_sensor_library_items]
    wait = LibraryItemsSensor(
        task_id="wait_until_in_library",
        ids=add.output,
        deferrable=True,
        poke_interval=5,
        timeout=600,
    )
    # [END howto_sensor_library_items]

    @task
    def log_library_ids(found: dict[str, dict[str, str]]) -> int:
        """Log the library id each catalog item got."""
        for kind, mapping in found.items():
            for catalog_id, library_id in mapping.items():
                print(f"{kind} {catalog_id} is in the library as {library_id}")
        return sum(len(mapping) for mapping in found.values())

    log_library_ids(wait.output)
