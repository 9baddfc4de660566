"""Reading snapshots back: every format told from the bytes, from a local copy of any store (no socket)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files import snapshots
from airflow_provider_applemusic.files.formats import encode
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.files.snapshots import local_copy, read_items

ITEMS = [
    {"id": f"l.{n}", "type": "library-albums", "attributes": {"name": f"Album ]{n}[ , \u00e9"}}
    for n in range(40)
]
BATCHES = [ITEMS[:15], [], ITEMS[15:]]


@pytest.mark.parametrize(
    ("file_format", "compression"),
    [("jsonl", None), ("jsonl", "gzip"), ("json", None), ("json", "gzip"), ("parquet", "snappy")],
)
def test_every_export_format_reads_back_item_for_item(
    tmp_path: Any, file_format: str, compression: str | None
) -> None:
    path = tmp_path / "snapshot"
    path.write_bytes(b"".join(encode(BATCHES, "library-albums", file_format, compression)))
    assert list(read_items(str(path))) == ITEMS


def test_a_json_array_is_decoded_across_read_boundaries(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "CHUNK", 7)
    path = tmp_path / "a.json"
    path.write_text("  [\n" + ",\n  ".join(json.dumps(item) for item in ITEMS) + "\n]\n")
    assert list(read_items(str(path))) == ITEMS


def test_blank_lines_of_json_lines_are_skipped(tmp_path: Any) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n" + json.dumps(ITEMS[0]) + "\n\n" + json.dumps(ITEMS[1]) + "\n")
    assert list(read_items(str(path))) == ITEMS[:2]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"id": "l.1"}\n{"name": "no id"}\n', "line 2 is not a resource with an 'id'"),
        (b'[{"id": "l.1"}, 5]', "element 1 is not a resource with an 'id'"),
        (b'[{"id": "l.1"}', "the JSON array ends without"),
        (gzip.compress(b'{"id": 7}\n'), "line 1 is not a resource"),
    ],
)
def test_what_is_not_an_export_is_refused_naming_where(tmp_path: Any, body: bytes, error: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(body)
    with pytest.raises(ValueError, match=error):
        list(read_items(str(path)))


def test_a_parquet_file_not_written_by_the_export_is_refused(tmp_path: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["l.1"]}), tmp_path / "other.parquet")
    with pytest.raises(AppleMusicConfigError, match="not a Parquet export of this provider"):
        list(read_items(str(tmp_path / "other.parquet")))


def test_a_local_snapshot_is_read_where_it_is(tmp_path: Any) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"{}")
    with local_copy(location(str(tmp_path / "a.jsonl")), param="current") as path:
        assert path == str(tmp_path / "a.jsonl")
