"""Fixtures of the example DAGs' runs."""

from __future__ import annotations

import pytest


@pytest.fixture
def apple_music_pool(airflow_db: str) -> None:
    from airflow.models.pool import Pool

    Pool.create_or_update_pool("apple_music", slots=4, description="Apple Music API", include_deferred=False)
