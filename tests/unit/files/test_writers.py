"""Atomic writers: a file appears only complete; on any failure nothing new appears (no socket)."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.writers import (
    IteratorReader,
    LocalFileWriter,
    StagedWriter,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


class Boom(Exception):
    """The failure a chunk iterator raises mid-file."""


def _failing(*chunks: bytes) -> Iterator[bytes]:
    yield from chunks
    raise Boom("the source failed")


def test_the_iterator_reader_reads_the_chunks_across_their_borders() -> None:
    reader = IteratorReader(iter([b"ab", b"", b"cde", b"f"]))
    stream = io.BufferedReader(reader, buffer_size=4)
    assert stream.read(3) == b"abc"
    assert stream.read() == b"def"
    assert reader.bytes_read == 6


def test_the_iterator_reader_keeps_the_first_error_of_its_source() -> None:
    reader = IteratorReader(_failing(b"x"))
    assert reader.read(1) == b"x"
    with pytest.raises(Boom):
        reader.read(1)
    assert isinstance(reader.error, Boom)


def test_a_local_file_is_written_whole_and_sized(tmp_path: Any) -> None:
    writer = LocalFileWriter(str(tmp_path / "new" / "a.jsonl"))
    assert writer.uri == f"file://{tmp_path}/new/a.jsonl"
    assert writer.write(iter([b"12", b"345"]), replace=True) == 5
    assert (tmp_path / "new" / "a.jsonl").read_bytes() == b"12345"
    assert os.listdir(tmp_path / "new") == ["a.jsonl"]


def test_a_failed_local_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Any) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"old")
    with pytest.raises(Boom):
        LocalFileWriter(str(tmp_path / "a.jsonl")).write(_failing(b"new"), replace=True)
    assert (tmp_path / "a.jsonl").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.jsonl"]


def test_replace_false_refuses_a_local_file_that_appeared_meanwhile(tmp_path: Any) -> None:
    target = tmp_path / "a.jsonl"

    def chunks() -> Iterator[bytes]:
        yield b"mine"
        target.write_bytes(b"theirs")  # someone else's file appears while ours is written

    with pytest.raises(AppleMusicConfigError, match="appeared while it was written and replace=False"):
        LocalFileWriter(str(target)).write(chunks(), replace=False)
    assert target.read_bytes() == b"theirs"
    assert os.listdir(tmp_path) == ["a.jsonl"]


def test_replace_true_replaces_a_local_file(tmp_path: Any) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"old")
    LocalFileWriter(str(tmp_path / "a.jsonl")).write(iter([b"new"]), replace=True)
    assert (tmp_path / "a.jsonl").read_bytes() == b"new"


def _staged(root: str, name: str) -> StagedWriter:
    from airflow.sdk import ObjectStoragePath

    return StagedWriter(ObjectStoragePath(f"{root}/{name}"))


def test_another_store_gets_the_file_in_one_upload(memory_root: str) -> None:
    writer = _staged(memory_root, "a.json")
    assert not writer.exists()
    assert writer.write(iter([b"[1,", b"2]"]), replace=True) == 5
    assert writer.target.read_bytes() == b"[1,2]"


def test_a_failed_staged_write_uploads_nothing(memory_root: str) -> None:
    writer = _staged(memory_root, "a.json")
    with pytest.raises(Boom):
        writer.write(_failing(b"[1"), replace=True)
    assert not writer.exists()


def test_replace_false_refuses_a_store_file_that_appeared_meanwhile(memory_root: str) -> None:
    writer = _staged(memory_root, "a.json")

    def chunks() -> Iterator[bytes]:
        yield b"mine"
        writer.target.write_bytes(b"theirs")

    with pytest.raises(AppleMusicConfigError, match="appeared while it was written and replace=False"):
        writer.write(chunks(), replace=False)
    assert writer.target.read_bytes() == b"theirs"
