"""Deployment tier: add an id the catalog does not know, then wait for it (deferred) until the timeout."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor

#: not a catalog id of the tier's emulator (the tier checks)
UNKNOWN_ID = "999999999"

for soft_fail in (True, False):
    with DAG(
        dag_id=f"deployment_wait_unknown_{'soft_fail' if soft_fail else 'fail'}",
        schedule=None,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        tags=["apple-music", "deployment-test"],
    ):
        add = AddToLibraryOperator(task_id="add", ids={"albums": [UNKNOWN_ID]}, on_unknown="ignore")
        LibraryItemsSensor(
            task_id="wait_until_in_library",
            ids=add.output,
            deferrable=True,
            poke_interval=2,
            timeout=12,
            soft_fail=soft_fail,
        )
