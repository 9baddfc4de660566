"""The S3 writer on moto's S3 server: parts when large; on a failure the old object stays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.files.writers import (
    PART_SIZE,
    S3Writer,
)
from tests.integration.files.conftest import BUCKET

if TYPE_CHECKING:
    from collections.abc import Iterator


class Boom(Exception):
    """The failure a chunk iterator raises mid-file."""


def _failing(*chunks: bytes) -> Iterator[bytes]:
    yield from chunks
    raise Boom("the source failed")


def test_an_s3_object_is_written_in_parts_when_large(s3: Any) -> None:
    writer = S3Writer(BUCKET, "big.jsonl", "aws_default", "application/x-ndjson")
    chunk = b"x" * (1024 * 1024)
    size = writer.write(iter([chunk] * (PART_SIZE // len(chunk) * 2 + 1)), replace=True)
    assert size == 2 * PART_SIZE + len(chunk)
    head = s3.head_object(Bucket=BUCKET, Key="big.jsonl")
    assert head["ContentLength"] == size
    assert "-" in head["ETag"], "a multipart upload's ETag carries the part count"


def test_a_failed_s3_write_raises_the_source_error_and_leaves_the_old_object(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="a.jsonl", Body=b"old")
    writer = S3Writer(BUCKET, "a.jsonl", "aws_default", "application/x-ndjson")
    with pytest.raises(Boom):
        writer.write(_failing(b"y" * (PART_SIZE + 1)), replace=True)
    assert s3.get_object(Bucket=BUCKET, Key="a.jsonl")["Body"].read() == b"old"
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
