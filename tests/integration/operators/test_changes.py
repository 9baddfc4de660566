"""LibraryChangesOperator on snapshots the export engine wrote (emulator, local disk, moto's S3)."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.changes import LibraryChangesOperator
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

INPUTS = [
    ("jsonl", None),
    ("jsonl", "gzip"),
    ("json", None),
    ("json", "gzip"),
    ("parquet", "snappy"),
    ("parquet", "zstd"),
    ("parquet", None),
]


def _export(resource: str, path: str, file_format: str = "jsonl", compression: str | None = None) -> None:
    AppleMusicExportOperator(
        task_id="export", resource=resource, path=path, file_format=file_format, compression=compression
    ).execute({})  # type: ignore[arg-type]


def _changes(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "changes")
    result: dict[str, Any] = LibraryChangesOperator(**kwargs).execute({})  # type: ignore[arg-type]
    return result


def _records(body: bytes) -> list[dict[str, Any]]:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def _summary(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((r["change"], r["id"]) for r in records)


def _write_jsonl(path: Any, items: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return str(path)


def _album(album_id: str, name: str, artwork: str = "https://is1-ssl.mzstatic.com/a/{w}x{h}bb.jpg") -> dict:
    return {
        "id": album_id,
        "type": "library-albums",
        "attributes": {"name": name, "artwork": {"url": artwork, "width": 1200}, "trackCount": 10},
    }


@pytest.mark.parametrize(("file_format", "compression"), INPUTS)
def test_every_export_format_compares_exactly(
    start_emulator: Any, tmp_path: Any, file_format: str, compression: str | None
) -> None:
    emulator = start_emulator(albums=150, songs=120, hidden_every=9)
    suffix = {"jsonl": ".jsonl", "json": ".json", "parquet": ".parquet"}[file_format]
    before, after = tmp_path / f"before{suffix}", tmp_path / f"after{suffix}"
    _export("library-songs", str(before), file_format, compression)
    old = {item["id"]: item for item in emulator.library_items("library-songs")}
    added, removed = emulator.apply_changes(add=3, remove=2, resource="library-songs")
    _export("library-songs", str(after), file_format, compression)

    result = _changes(previous=str(before), current=str(after), path=f"file://{tmp_path}/changes.jsonl")

    records = _records((tmp_path / "changes.jsonl").read_bytes())
    assert _summary(records) == sorted([*(("added", i) for i in added), *(("removed", i) for i in removed)])
    current = {item["id"]: item for item in emulator.library_items("library-songs")}
    for record in records:
        expected = current[record["id"]] if record["change"] == "added" else old[record["id"]]
        assert record["item"] == expected
    assert (result["added"], result["removed"], result["changed"]) == (3, 2, 0)
    assert (result["previous_count"], result["current_count"]) == (len(old), len(current))
    assert result["uri"] == f"file://{tmp_path}/changes.jsonl"


def test_s3_snapshots_to_an_s3_change_log_in_parquet(start_emulator: Any, s3_bucket: Any) -> None:
    import pyarrow.parquet as pq

    emulator = start_emulator(albums=200)
    bucket = s3_bucket.bucket_name
    _export("library-albums", f"s3://{bucket}/snap/1.jsonl.gz", "jsonl", "gzip")
    added, removed = emulator.apply_changes(add=2, remove=1)
    _export("library-albums", f"s3://{bucket}/snap/2.jsonl.gz", "jsonl", "gzip")

    result = _changes(
        previous=f"s3://{bucket}/snap/1.jsonl.gz",
        current=f"s3://{bucket}/snap/2.jsonl.gz",
        path=f"s3://{bucket}/changes/1-2.parquet",
        file_format="parquet",
    )

    body = s3_bucket.get_object(Bucket=bucket, Key="changes/1-2.parquet")["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == ["change", "id", "resource_json"]
    rows = sorted(zip(table.column("change").to_pylist(), table.column("id").to_pylist(), strict=True))
    assert rows == sorted([("added", added[0]), ("added", added[1]), ("removed", removed[0])])
    assert all(json.loads(text)["item"]["id"] for text in table.column("resource_json").to_pylist())
    assert (result["bytes"], result["format"], result["compression"]) == (len(body), "parquet", "snappy")


def test_a_missing_snapshot_is_named(tmp_path: Any, s3_bucket: Any) -> None:
    current = _write_jsonl(tmp_path / "now.jsonl", [_album("l.a", "A")])
    with pytest.raises(AppleMusicConfigError, match="previous: no file at file://"):
        _changes(previous=str(tmp_path / "gone.jsonl"), current=current, path=str(tmp_path / "c.jsonl"))
    with pytest.raises(AppleMusicConfigError, match="previous: no object at s3://"):
        _changes(
            previous=f"s3://{s3_bucket.bucket_name}/gone.jsonl",
            current=current,
            path=str(tmp_path / "c.jsonl"),
        )
    assert not (tmp_path / "c.jsonl").exists()


PATHS = {"path": "/tmp/c.jsonl", "current": "/a"}
