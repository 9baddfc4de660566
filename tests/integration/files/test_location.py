"""S3 locations on moto's S3 server: probing, reading, copying, writing, encryption."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.files.location import (
    S3Location,
)
from airflow_provider_applemusic.files.writers import S3Writer
from tests.integration.files.conftest import BUCKET


def test_an_s3_location_probes_reads_copies_and_writes(s3: Any, tmp_path: Any) -> None:
    target = S3Location(BUCKET, "dir/a.jsonl", "aws_default")
    assert not target.exists()
    writer = target.writer("application/x-ndjson")
    assert isinstance(writer, S3Writer)
    assert writer.write(iter([b"a\n", b"b\n"]), replace=True) == 4
    assert target.exists()
    with target.open() as stream:
        assert stream.read() == b"a\nb\n"
    target.download(str(tmp_path / "copy"))
    assert (tmp_path / "copy").read_bytes() == b"a\nb\n"
    head = s3.head_object(Bucket=BUCKET, Key="dir/a.jsonl")
    assert head["ContentType"] == "application/x-ndjson"
    with pytest.raises(FileNotFoundError, match=f"no object at s3://{BUCKET}/missing"):
        S3Location(BUCKET, "missing", "aws_default").open()


def test_an_encrypted_s3_location_writes_with_sse_s3(s3: Any) -> None:
    S3Location(BUCKET, "secret.jsonl", "aws_default", encrypt=True).writer("application/x-ndjson").write(
        iter([b"x\n"]), replace=True
    )
    assert s3.head_object(Bucket=BUCKET, Key="secret.jsonl")["ServerSideEncryption"] == "AES256"
