"""Formats and compressions: checked together, their content types, the bytes they encode to."""

from __future__ import annotations

import gzip
import json

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import (
    content_type,
    encode,
    encode_json,
    gzip_stream,
    resolve_format,
)

ITEMS = [{"id": "l.1", "attributes": {"name": "Ünïcode"}}, {"id": "l.2"}]


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        (("jsonl", "auto"), ("jsonl", None)),
        (("json", "auto"), ("json", None)),
        (("parquet", "auto"), ("parquet", "snappy")),
        (("jsonl", "gzip"), ("jsonl", "gzip")),
        (("parquet", None), ("parquet", None)),
        (("parquet", "zstd"), ("parquet", "zstd")),
    ],
)
def test_auto_picks_the_first_compression_a_format_allows(
    given: tuple[str, str | None], resolved: tuple[str, str | None]
) -> None:
    assert resolve_format(*given) == resolved


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (("csv", None), "file_format must be one of jsonl, json, parquet, got 'csv'"),
        (("jsonl", "zstd"), "compression must be 'auto' or one of None, 'gzip' for file_format 'jsonl'"),
        (("parquet", "gzip"), "compression must be 'auto' or one of 'snappy', 'zstd', None"),
    ],
)
def test_a_format_and_compression_that_do_not_go_together_are_refused(
    given: tuple[str, str | None], message: str
) -> None:
    with pytest.raises(AppleMusicConfigError, match=message):
        resolve_format(*given)


def test_content_types() -> None:
    assert content_type("jsonl", None) == "application/x-ndjson"
    assert content_type("json", "gzip") == "application/gzip"
    assert content_type("parquet", "snappy") == "application/vnd.apache.parquet"


def test_json_lines_and_a_json_array_hold_the_items_in_order() -> None:
    lines = b"".join(encode_json([ITEMS[:1], [], ITEMS[1:]], "jsonl")).decode()
    assert [json.loads(line) for line in lines.splitlines()] == ITEMS
    assert "Ünïcode" in lines
    assert json.loads(b"".join(encode_json([ITEMS[:1], [], ITEMS[1:]], "json"))) == ITEMS


def test_nothing_to_write_is_an_empty_file_or_an_empty_array() -> None:
    assert b"".join(encode_json([[], []], "jsonl")) == b""
    assert b"".join(encode_json([], "json")) == b"[]"


def test_gzip_is_reproducible_and_round_trips() -> None:
    first = b"".join(gzip_stream([b"abc", b"", b"def"]))
    assert first == b"".join(gzip_stream([b"abc", b"def"]))
    assert gzip.decompress(first) == b"abcdef"
    assert first[4:8] == b"\0\0\0\0", "header mtime 0"


def test_encode_applies_the_compression() -> None:
    body = b"".join(encode([ITEMS], "library-albums", "json", "gzip"))
    assert json.loads(gzip.decompress(body)) == ITEMS
