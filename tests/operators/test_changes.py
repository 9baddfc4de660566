"""LibraryChangesOperator on snapshots the export engine wrote (emulator, local disk, moto's S3)."""

from __future__ import annotations

import gzip
import io
import json
import os
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.changes import LibraryChangesOperator
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator, ExportResult

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


def _write_jsonl(path: Any, items: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return str(path)


def _album(album_id: str, name: str, artwork: str = "https://is1-ssl.mzstatic.com/a/{w}x{h}bb.jpg") -> dict:
    return {
        "id": album_id,
        "type": "library-albums",
        "attributes": {"name": name, "artwork": {"url": artwork, "width": 1200}, "trackCount": 10},
    }


def test_changed_means_same_id_different_attributes_and_artwork_urls_are_ignored(tmp_path: Any) -> None:
    before = [_album("l.a", "A"), _album("l.b", "B"), _album("l.c", "C"), _album("l.d", "D")]
    after = [
        _album("l.a", "A", artwork="https://is4-ssl.mzstatic.com/a/{w}x{h}bb.jpg"),  # another CDN host
        _album("l.b", "B (Deluxe)"),  # renamed: changed
        {**_album("l.c", "C"), "attributes": {**_album("l.c", "C")["attributes"], "trackCount": 12}},
        _album("l.e", "E"),
    ]
    previous = _write_jsonl(tmp_path / "before.jsonl", before)
    current = _write_jsonl(tmp_path / "after.jsonl", after)

    result = _changes(previous=previous, current=current, path=str(tmp_path / "changes.jsonl"))

    records = _records((tmp_path / "changes.jsonl").read_bytes())
    assert [(r["change"], r["id"]) for r in records] == [
        ("changed", "l.b"),
        ("changed", "l.c"),
        ("added", "l.e"),
        ("removed", "l.d"),
    ]
    assert records[0]["item"] == after[1] and records[3]["item"] == before[3]
    assert (result["added"], result["removed"], result["changed"]) == (1, 1, 2)

    # not ignoring artwork URLs, the CDN host change is a change too
    again = _changes(
        previous=previous, current=current, path=str(tmp_path / "strict.jsonl"), ignore_attributes=[]
    )
    assert again["changed"] == 3


def test_no_previous_snapshot_reports_every_item_added(tmp_path: Any) -> None:
    items = [_album(f"l.{n}", str(n)) for n in range(5)]
    current = _write_jsonl(tmp_path / "now.jsonl", items)
    result = _changes(current=current, path=str(tmp_path / "changes.jsonl"))
    records = _records((tmp_path / "changes.jsonl").read_bytes())
    assert [(r["change"], r["item"]) for r in records] == [("added", item) for item in items]
    assert result["previous_uri"] is None and result["added"] == 5


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


def test_a_failed_comparison_leaves_the_old_change_log_and_no_partial_file(tmp_path: Any) -> None:
    previous = _write_jsonl(tmp_path / "before.jsonl", [_album(f"l.{n}", str(n)) for n in range(3000)])
    whole = gzip.compress("".join(json.dumps(_album(f"l.x{n}", "x")) + "\n" for n in range(3000)).encode())
    (tmp_path / "after.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # cut off mid-stream
    out = tmp_path / "out"
    out.mkdir()
    (out / "changes.jsonl").write_text("the previous change log\n")

    with pytest.raises(EOFError):
        _changes(previous=previous, current=str(tmp_path / "after.jsonl.gz"), path=str(out / "changes.jsonl"))

    assert (out / "changes.jsonl").read_text() == "the previous change log\n"
    assert os.listdir(out) == ["changes.jsonl"]


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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": "/tmp/c.jsonl"}, "current is required"),
        ({"path": "/tmp/c.jsonl", "current": "/a", "snapshot_asset": "x"}, "snapshot_asset must be an Asset"),
        ({"path": "/tmp/c.jsonl", "current": "/a", "file_format": "csv"}, "file_format must be one of"),
        ({"path": "/tmp/c.jsonl", "current": "/a", "compression": "zstd"}, "compression must be"),
        (
            {"path": "/tmp/c.jsonl", "current": "/a", "ignore_attributes": "artwork.url"},
            "ignore_attributes must",
        ),
        ({"path": "/tmp/c.jsonl", "current": "/a", "ignore_attributes": ["a..b"]}, "ignore_attributes must"),
        ({"path": "/tmp/c.jsonl", "current": "/a", "replace": "yes"}, "replace must be True or False"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=message):
        LibraryChangesOperator(task_id="changes", **kwargs)


def test_both_the_asset_and_paths_are_refused() -> None:
    from airflow.sdk import Asset

    with pytest.raises(AppleMusicConfigError, match="either snapshot_asset or previous/current"):
        LibraryChangesOperator(task_id="c", path="/tmp/c.jsonl", current="/a", snapshot_asset=Asset("s"))


def test_the_change_log_never_overwrites_a_snapshot(tmp_path: Any) -> None:
    current = _write_jsonl(tmp_path / "now.jsonl", [_album("l.a", "A")])
    with pytest.raises(AppleMusicConfigError, match="path must not be the current snapshot"):
        _changes(current=current, path=f"file://{current}")
    assert _records((tmp_path / "now.jsonl").read_bytes())[0]["id"] == "l.a"


def test_snapshot_state_moves_previous_only_when_the_uri_changes() -> None:
    def result(uri: str, count: int) -> ExportResult:
        return ExportResult(uri, "library-albums", count, 10, "jsonl", None, 0, 1, f"sha{count}")

    first = result("s3://b/1.jsonl", 5).snapshot_state(None)
    assert first == {"uri": "s3://b/1.jsonl", "previous_uri": None, "count": 5, "ids_sha256": "sha5"}
    second = result("s3://b/2.jsonl", 6).snapshot_state(first)
    assert second["previous_uri"] == "s3://b/1.jsonl"
    fixed = result("s3://b/2.jsonl", 7).snapshot_state(second)  # same path again
    assert fixed["previous_uri"] == "s3://b/1.jsonl" and fixed["count"] == 7
