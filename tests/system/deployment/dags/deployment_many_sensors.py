"""Deployment tier: many deferred LibraryItemsSensors (dynamic task mapping), one album each."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor

with DAG(
    dag_id="deployment_many_sensors",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"albums": Param([], type="array")},
    tags=["apple-music", "deployment-test"],
):

    @task
    def one_album_each(params: dict | None = None) -> list[dict[str, list[str]]]:
        """One ``ids`` argument per album of the run's ``albums``."""
        return [{"albums": [album]} for album in (params or {})["albums"]]

    # an explicit storefront keeps these look-ups apart from the other DAGs' on the emulator
    LibraryItemsSensor.partial(
        task_id="wait",
        storefront="gb",
        deferrable=True,
        poke_interval=2,
        timeout=240,
    ).expand(ids=one_album_each())
