"""The export under the service's reported behaviour: dates, empty and truncated listings."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pytest

from airflow_provider_applemusic.api.dates import date_added
from airflow_provider_applemusic.exceptions import AppleMusicRequestError
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator


def _export(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "export")
    return LibraryAlbumsToS3Operator(**kwargs).execute({})  # type: ignore[arg-type]


def _read(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=client.bucket_name, Key=key)["Body"].read()


def test_windowed_export_holds_exactly_the_albums_added_in_the_window(
    start_emulator: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(albums=3000)
    after = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    before = dt.datetime(2024, 4, 1, tzinfo=dt.timezone.utc)
    expected = [a for a in emulator.library() if (d := date_added(a)) is not None and after <= d < before]
    assert len(expected) > 100
    result = _export(
        s3_bucket=s3_bucket.bucket_name,
        s3_key="march.jsonl",
        added_after="2024-03-01",
        added_before="2024-04-01T00:00:00+00:00",
    )
    lines = [json.loads(line) for line in _read(s3_bucket, "march.jsonl").decode().splitlines()]
    assert lines == expected
    assert result["album_count"] == len(expected)
    assert all("dateAdded" in album["attributes"] for album in lines)
    asked = emulator.stats.library_pages
    assert len(asked) >= 30
    assert {extend for _, extend in asked} == {"dateAdded"}


@pytest.mark.parametrize("file_format", ["jsonl", "json"])
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_an_empty_library_gives_a_valid_empty_object(
    start_emulator: Any, s3_bucket: Any, file_format: str, compression: str | None
) -> None:
    emulator = start_emulator(albums=0)
    key = f"empty.{file_format}" + (".gz" if compression else "")
    result = _export(
        s3_bucket=s3_bucket.bucket_name, s3_key=key, file_format=file_format, compression=compression
    )
    body = _read(s3_bucket, key)
    if compression:
        body = gzip.decompress(body)
    assert body == (b"[]" if file_format == "json" else b"")
    if file_format == "json":
        assert json.loads(body) == []
    assert result["album_count"] == 0
    assert emulator.stats.statuses == {404: 1}


def test_transient_truncations_give_exact_content(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=2500, truncate_every=4)
    result = _export(s3_bucket=s3_bucket.bucket_name, s3_key="all.jsonl")
    lines = [json.loads(line) for line in _read(s3_bucket, "all.jsonl").decode().splitlines()]
    assert lines == emulator.library()
    assert result["album_count"] == 2500
    assert emulator.stats.statuses[404] >= 5


def test_a_permanent_truncation_fails_and_leaves_the_earlier_object(
    start_emulator: Any, s3_bucket: Any, set_connection: Any
) -> None:
    emulator = start_emulator(albums=1200)
    s3_bucket.put_object(Bucket=s3_bucket.bucket_name, Key="all.jsonl", Body=b"earlier\n")
    emulator.inject("404", count=10_000, path_prefix="/v1/me/library/albums", offset=594)
    fields = emulator.connection_dict()
    fields["extra"].update(max_attempts=3, max_retry_seconds=5)
    set_connection(**fields)
    with pytest.raises(AppleMusicRequestError, match="the page at offset 594 stayed missing"):
        _export(s3_bucket=s3_bucket.bucket_name, s3_key="all.jsonl", max_concurrency=2)
    assert _read(s3_bucket, "all.jsonl") == b"earlier\n"
    assert s3_bucket.list_multipart_uploads(Bucket=s3_bucket.bucket_name).get("Uploads", []) == []
