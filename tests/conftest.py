"""Test set-up: a throwaway Airflow home, and emulator fixtures on loopback."""

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
    import importlib.util
    import textwrap

    def load(dag_id: str, source: str) -> Any:
        path = os.path.join(airflow_db, f"{dag_id}.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(f"test_dag_{dag_id}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.dag

    return load


def xcom_value(run: Any, task_id: str, key: str = "return_value") -> Any:
    """The XCom a task of a finished ``dag.test()`` run pushed, read from the metadata database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).first()
        assert row is not None, f"no XCom {key!r} from {task_id!r}"
        return XComModel.deserialize_value(row)
