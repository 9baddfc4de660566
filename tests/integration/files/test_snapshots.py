"""Reading snapshots back from other stores (moto's S3 server, memory): missing ones named, copies removed."""

from __future__ import annotations

import os
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import encode
from airflow_provider_applemusic.files.location import S3Location, location
from airflow_provider_applemusic.files.snapshots import local_copy, read_items
from tests.integration.files.conftest import BUCKET

ITEMS = [
    {"id": f"l.{n}", "type": "library-albums", "attributes": {"name": f"Album ]{n}[ , \u00e9"}}
    for n in range(40)
]
BATCHES = [ITEMS[:15], [], ITEMS[15:]]


def test_a_missing_snapshot_is_named_by_its_parameter(tmp_path: Any, memory_root: str, s3: Any) -> None:
    os.mkdir(tmp_path / "folder")
    cases = [
        (location(str(tmp_path / "gone.jsonl")), f"previous: no file at file://{tmp_path}/gone.jsonl"),
        (location(str(tmp_path / "folder")), "previous: no file at file://"),
        (location(f"{memory_root}/gone.jsonl"), f"previous: no file at {memory_root}/gone.jsonl"),
        (S3Location(BUCKET, "gone.jsonl", "aws_default"), f"previous: no object at s3://{BUCKET}/gone.jsonl"),
    ]
    for source, message in cases:
        with pytest.raises(AppleMusicConfigError, match=message), local_copy(source, param="previous"):
            pass


@pytest.mark.parametrize("store", ["memory", "s3"])
def test_a_remote_snapshot_is_read_from_a_temporary_copy_removed_afterwards(
    memory_root: str, s3: Any, store: str
) -> None:
    body = b"".join(encode(BATCHES, "library-albums", "jsonl", "gzip"))
    if store == "s3":
        s3.put_object(Bucket=BUCKET, Key="snap.jsonl.gz", Body=body)
        source = location(f"s3://{BUCKET}/snap.jsonl.gz")
        assert isinstance(source, S3Location)  # through aws_default, on the moto server
    else:
        source = location(f"{memory_root}/snap.jsonl.gz")
        source.writer("application/gzip").write(iter([body]), replace=True)
    with local_copy(source, param="current") as path:
        assert list(read_items(path)) == ITEMS
    assert not os.path.exists(path)
    assert not os.path.exists(os.path.dirname(path))
