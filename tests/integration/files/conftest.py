"""Fixtures of the file side's tests on moto's S3 server on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

BUCKET = "unit-bucket"


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """
    A boto3 S3 client on the real moto server on loopback (the amazon provider's ``S3Hook``
    reaches it through ``aws_default``), with an empty bucket ``unit-bucket``.
    """
    import json

    import boto3

    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"}}),
    )
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for entry in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=entry["Key"])
