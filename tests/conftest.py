"""Test set-up: a throwaway Airflow home, and emulator fixtures on loopback."""

from __future__ import annotations

import os
import tempfile

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="applemusic-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", os.path.join(_AIRFLOW_HOME, "dags"))

from contextlib import ExitStack  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_applemusic.emulator import AppleMusicEmulator  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture
def start_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppleMusicEmulator]]:
    """Start an emulator with the given options and point ``apple_music_default`` at it."""
    with ExitStack() as stack:

        def start(**options: Any) -> AppleMusicEmulator:
            emulator = stack.enter_context(AppleMusicEmulator(**options))
            monkeypatch.setenv("AIRFLOW_CONN_APPLE_MUSIC_DEFAULT", emulator.connection_json())
            return emulator

        yield start


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set a connection from keyword fields (JSON form) through its environment variable."""
    import json

    def set_conn(conn_id: str = "apple_music_default", **fields: Any) -> None:
        fields.setdefault("conn_type", "apple_music")
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))

    return set_conn
