"""LibraryChangesOperator on local snapshots: what counts as changed, the guard, arguments, state."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.changes import LibraryChangesOperator
from airflow_provider_applemusic.operators.export import ExportResult


def _write_jsonl(path: Any, items: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return str(path)


def _album(album_id: str, name: str, artwork: str = "https://is1-ssl.mzstatic.com/a/{w}x{h}bb.jpg") -> dict:
    return {
        "id": album_id,
        "type": "library-albums",
        "attributes": {"name": name, "artwork": {"url": artwork, "width": 1200}, "trackCount": 10},
    }


def _changes(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "changes")
    result: dict[str, Any] = LibraryChangesOperator(**kwargs).execute({})  # type: ignore[arg-type]
    return result


def _records(body: bytes) -> list[dict[str, Any]]:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


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
