"""Locations: a URL or ObjectStoragePath read as a store and a path; probing, reading, writing (no socket)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.location import (
    LocalFileLocation,
    S3Location,
    StoreLocation,
    location,
)
from airflow_provider_applemusic.files.writers import LocalFileWriter, StagedWriter


def test_a_local_path_and_its_file_url_are_one_location(tmp_path: Any) -> None:
    plain = location(str(tmp_path / "a.jsonl"))
    url = location(f"file://{tmp_path}/sub/../a.jsonl")
    other = location(f"local://{tmp_path}/a.jsonl")
    assert isinstance(plain, LocalFileLocation)
    assert plain == url == other
    assert plain.uri == f"file://{tmp_path}/a.jsonl"
    assert plain.local_path == str(tmp_path / "a.jsonl")
    assert len({plain, url, other}) == 1


def test_an_object_storage_path_on_local_disk_is_a_local_file(tmp_path: Any) -> None:
    from airflow.sdk import ObjectStoragePath

    found = location(ObjectStoragePath(f"file://{tmp_path}/osp.jsonl"))
    assert isinstance(found, LocalFileLocation)
    assert found == location(str(tmp_path / "osp.jsonl"))


def test_an_s3_url_names_bucket_key_and_connection_and_its_uri_leaves_the_connection_out() -> None:
    found = location("s3://my_aws@bucket/dir/key.jsonl")
    assert isinstance(found, S3Location)
    assert (found.bucket, found.key, found.aws_conn_id) == ("bucket", "dir/key.jsonl", "my_aws")
    assert found.uri == "s3://bucket/dir/key.jsonl"
    assert found == location("s3://bucket/dir/key.jsonl") == location("s3a://bucket/dir/key.jsonl")
    assert found.noun == "object"


def test_the_connection_is_the_argument_then_the_url_then_aws_default() -> None:
    assert isinstance(given := location("s3://in_url@b/k", "given"), S3Location)
    assert given.aws_conn_id == "given"
    assert isinstance(default := location("s3://b/k"), S3Location)
    assert default.aws_conn_id == "aws_default"


def test_locations_in_different_stores_differ(tmp_path: Any) -> None:
    assert location("s3://b/k.jsonl") != location(str(tmp_path / "k.jsonl"))
    assert location("s3://b/k.jsonl") != "s3://b/k.jsonl"
    assert location("s3://b/k.jsonl") != location("s3://b/k.json")


def test_encryption_is_how_an_object_is_written_not_which_object_it_is() -> None:
    assert S3Location("b", "k", None, encrypt=True) == S3Location("b", "k", "other")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "current must be an ObjectStoragePath or a URL"),
        ("   ", "current must be an ObjectStoragePath or a URL"),
        (None, "current must be an ObjectStoragePath or a URL"),
        (5, "current must be an ObjectStoragePath or a URL"),
        ("s3://bucket-only", "current must name a bucket and a key"),
        ("s3://bucket/folder/", "current must name a bucket and a key"),
        ("relative/file.jsonl", "current must be a URL with a scheme"),
        ("gs://bucket", "current must be a URL with a scheme and a file name"),
        ("nosuchscheme://bucket/key.jsonl", "current 'nosuchscheme://bucket/key.jsonl' names a store"),
    ],
)
def test_bad_paths_are_refused_naming_the_parameter(path: Any, message: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=message):
        location(path, param="current")


def test_a_local_location_probes_reads_copies_and_writes(tmp_path: Any) -> None:
    target = location(str(tmp_path / "out" / "a.jsonl"))
    assert not target.exists()
    writer = target.writer("application/x-ndjson")
    assert isinstance(writer, LocalFileWriter)
    assert writer.write(iter([b"one\n", b"two\n"]), replace=True) == 8
    assert target.exists()
    with target.open() as stream:
        assert stream.read() == b"one\ntwo\n"
    target.download(str(tmp_path / "copy"))
    assert (tmp_path / "copy").read_bytes() == b"one\ntwo\n"
    with pytest.raises(FileNotFoundError):
        location(str(tmp_path / "missing")).open()


def test_another_store_probes_reads_copies_and_writes(memory_root: str, tmp_path: Any) -> None:
    target = location(f"{memory_root}/songs.json")
    assert isinstance(target, StoreLocation)
    assert target.uri == f"{memory_root}/songs.json"
    assert not target.exists()
    writer = target.writer("application/json")
    assert isinstance(writer, StagedWriter)
    writer.write(iter([b"[", b"]"]), replace=True)
    assert target.exists()
    with target.open() as stream:
        assert stream.read() == b"[]"
    target.download(str(tmp_path / "copy"))
    assert (tmp_path / "copy").read_bytes() == b"[]"
    with pytest.raises(FileNotFoundError):
        location(f"{memory_root}/missing.json").open()


def test_the_writer_of_a_local_location_leaves_no_temporary_file(tmp_path: Any) -> None:
    location(str(tmp_path / "a.jsonl")).writer("application/x-ndjson").write(iter([b"x"]), replace=True)
    assert os.listdir(tmp_path) == ["a.jsonl"]


def test_files_under_a_folder_in_order_and_none_under_a_file(memory_root: str, tmp_path: Any) -> None:
    for name in ("b/2.csv", "a.zip", "b/1.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
        location(f"{memory_root}/export/{name}").writer("text/csv").write([b"x"], replace=True)
    local = location(str(tmp_path))
    assert [f.uri for f in local.files_under()] == [
        f"file://{tmp_path}/{n}" for n in ("a.zip", "b/1.csv", "b/2.csv")
    ]
    assert location(str(tmp_path / "a.zip")).files_under() == []
    assert location(str(tmp_path / "missing")).files_under() == []
    store = location(f"{memory_root}/export")
    assert sorted(f.uri for f in store.files_under()) == sorted(
        f"{memory_root}/export/{n}" for n in ("a.zip", "b/1.csv", "b/2.csv")
    )
    assert location(f"{memory_root}/export/a.zip").files_under() == []
