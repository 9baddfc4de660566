"""Test set-up of every tier: a throwaway Airflow home; the emulator, S3, object storage and DAG fixtures."""

from __future__ import annotations

import os
import tempfile

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="applemusic-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", os.path.join(_AIRFLOW_HOME, "dags"))

from contextlib import ExitStack  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_applemusic.emulator import AppleMusicEmulator  # noqa: E402
from tests.support import import_file  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture(scope="module")
def _shared_emulators() -> Iterator[dict[str, AppleMusicEmulator]]:
    """``start_emulator``'s emulators started with ``shared=True`` in one test module, by options."""
    started: dict[str, AppleMusicEmulator] = {}
    yield started
    for emulator in started.values():
        emulator.stop()


@pytest.fixture
def start_emulator(
    monkeypatch: pytest.MonkeyPatch, _shared_emulators: dict[str, AppleMusicEmulator]
) -> Iterator[Callable[..., AppleMusicEmulator]]:
    """
    Start an emulator with the given options and point ``apple_music_default`` at it; the
    emulator stops after the test. ``shared=True``: the one emulator of the test module with
    these options, started by the first test that asks and stopped after the module (for
    tests that only read it, or leave it as they found it).
    """
    with ExitStack() as stack:

        def start(*, shared: bool = False, **options: Any) -> AppleMusicEmulator:
            if shared:
                key = repr(sorted(options.items()))
                if key not in _shared_emulators:
                    _shared_emulators[key] = AppleMusicEmulator(**options).start()
                emulator = _shared_emulators[key]
            else:
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


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 in server mode on a loopback port; returns its endpoint URL."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A fresh bucket on the moto server, with ``aws_default`` pointing at it; returns a client."""
    import json
    import re

    import boto3

    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"}}),
    )
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-") + f"-{os.getpid()}"
    name = name + "-" + str(abs(hash(request.node.nodeid)) % 10**6)
    client.create_bucket(Bucket=name)
    client.bucket_name = name  # type: ignore[attr-defined]
    return client


@pytest.fixture
def memory_root() -> str:
    """A fresh folder in fsspec's in-memory store, attached to Airflow's object storage."""
    import uuid

    import fsspec
    from airflow.sdk.io import attach

    attach("memory", fs=fsspec.filesystem("memory"))
    return f"memory://unit-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Migrate the throwaway SQLite metadata database once; returns the DAGs folder."""
    import subprocess
    import sys

    dags = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    os.makedirs(dags, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=dict(os.environ),
    )
    return dags


@pytest.fixture
def load_dag(airflow_db: str) -> Callable[[str, str], Any]:
    """Write DAG source into the DAGs folder and return the DAG it defines."""
    import textwrap

    def load(dag_id: str, source: str) -> Any:
        path = os.path.join(airflow_db, f"{dag_id}.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(source))
        return import_file(path, f"test_dag_{dag_id}").dag

    return load
