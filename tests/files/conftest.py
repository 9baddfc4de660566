"""Fixtures of the file side's tests: no connection but to the S3 server on loopback; an in-memory store."""

from __future__ import annotations

import sys
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

BUCKET = "unit-bucket"
#: the thread of the running unit test, while one runs: it must open no connection
_GUARDED: dict[str, int | None] = {"thread": None}


def _refuse_connections(event: str, args: Any) -> None:
    if event == "socket.connect" and _GUARDED["thread"] == threading.get_ident():
        raise AssertionError(f"a unit test of the file side opened a connection: {args!r}")


sys.addaudithook(_refuse_connections)


@pytest.fixture(autouse=True)
def no_connections() -> Iterator[None]:
    """Fail a test that connects anywhere but to the ``s3`` fixture's server (stores are in memory)."""
    _GUARDED["thread"] = threading.get_ident()
    try:
        yield
    finally:
        _GUARDED["thread"] = None


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """
    A boto3 S3 client on the real moto server on loopback (the amazon provider's ``S3Hook``
    reaches it through ``aws_default``), with an empty bucket ``unit-bucket``. The only
    connections these tests may open are to it.
    """
    import json

    import boto3

    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"}}),
    )
    _GUARDED["thread"] = None  # S3 is a real server on loopback
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for entry in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=entry["Key"])


@pytest.fixture
def memory_root() -> str:
    """A fresh folder in fsspec's in-memory store, attached to Airflow's object storage."""
    import fsspec
    from airflow.sdk.io import attach

    attach("memory", fs=fsspec.filesystem("memory"))
    return f"memory://unit-{uuid.uuid4().hex}"
