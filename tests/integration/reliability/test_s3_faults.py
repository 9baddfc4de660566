"""S3 refusing a part upload: the export fails cleanly, atomically, with nothing left behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator
from tests.integration.reliability.s3_fault_proxy import S3FaultProxy


def test_refused_part_upload_aborts_the_upload_and_keeps_the_old_object(
    start_emulator: Any, s3_bucket: Any, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = start_emulator(albums=20_000)
    bucket = s3_bucket.bucket_name
    s3_bucket.put_object(Bucket=bucket, Key="albums.jsonl", Body=b"previous export\n")
    with S3FaultProxy(s3_server) as proxy:
        proxy.refuse_parts = {2}
        monkeypatch.setenv(
            "AIRFLOW_CONN_AWS_DEFAULT",
            json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": proxy.url, "region_name": "us-east-1"}}
            ),
        )
        operator = LibraryAlbumsToS3Operator(task_id="export", s3_bucket=bucket, s3_key="albums.jsonl")
        with pytest.raises(Exception, match=r"InternalError|UploadPart"):
            operator.execute({})  # type: ignore[arg-type]
        assert proxy.refused >= 1
    assert s3_bucket.get_object(Bucket=bucket, Key="albums.jsonl")["Body"].read() == b"previous export\n"
    assert not s3_bucket.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert emulator.stats.requests > 0


def test_same_export_through_the_proxy_succeeds_when_nothing_is_refused(
    start_emulator: Any, s3_bucket: Any, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = start_emulator(albums=20_000)
    bucket = s3_bucket.bucket_name
    with S3FaultProxy(s3_server) as proxy:
        monkeypatch.setenv(
            "AIRFLOW_CONN_AWS_DEFAULT",
            json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": proxy.url, "region_name": "us-east-1"}}
            ),
        )
        LibraryAlbumsToS3Operator(task_id="export", s3_bucket=bucket, s3_key="albums.jsonl").execute(
            {}  # type: ignore[arg-type]
        )
        assert proxy.forwarded > 3, "the upload went through the proxy in parts"
    body = s3_bucket.get_object(Bucket=bucket, Key="albums.jsonl")["Body"].read()
    assert [json.loads(line)["id"] for line in body.splitlines()] == [a["id"] for a in emulator.library()]
