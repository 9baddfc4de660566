"""Exports keep library songs without ``playParams`` and rows whose catalog id no longer resolves."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_applemusic.api.catalog import catalog_id_of
from airflow_provider_applemusic.operators.changes import LibraryChangesOperator
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

SONGS = 400


def _export(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "export")
    result: dict[str, Any] = AppleMusicExportOperator(**kwargs).execute({})  # type: ignore[arg-type]
    return result


def _jsonl(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def _unresolved(emulator: Any) -> tuple[list[str], list[str]]:
    """The library ids of the songs without ``playParams``, and the withdrawn catalog song ids."""
    without = emulator.songs_without_play_params()
    withdrawn = emulator.withdrawn_ids("songs")
    assert without and withdrawn, "the emulator's defaults make both"
    return without, withdrawn


def test_a_jsonl_export_of_library_songs_keeps_songs_without_play_params_and_withdrawn_ones(
    start_emulator: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(songs=SONGS)
    without, withdrawn = _unresolved(emulator)
    result = _export(
        resource="library-songs", path=f"s3://{s3_bucket.bucket_name}/songs.jsonl", include=["catalog"]
    )
    rows = _jsonl(s3_bucket.get_object(Bucket=s3_bucket.bucket_name, Key="songs.jsonl")["Body"].read())
    assert rows == emulator.library_items("library-songs", include_catalog=True)
    assert result["count"] == len(rows)
    assert set(without) <= {row["id"] for row in rows}
    assert all("playParams" not in row["attributes"] for row in rows if row["id"] in set(without))
    assert set(withdrawn) <= {catalog_id_of(row) for row in rows}


def test_a_parquet_export_of_library_songs_keeps_them_with_a_null_catalog_id_for_songs_without_play_params(
    start_emulator: Any, tmp_path: Any
) -> None:
    import pyarrow.parquet as pq

    emulator = start_emulator(songs=SONGS)
    without, withdrawn = _unresolved(emulator)
    target = tmp_path / "songs.parquet"
    result = _export(resource="library-songs", path=str(target), file_format="parquet", include=["catalog"])
    rows = pq.read_table(target).to_pylist()
    expected = emulator.library_items("library-songs", include_catalog=True)
    assert [json.loads(row["resource_json"]) for row in rows] == expected
    assert result["count"] == len(expected)
    catalog_ids = {row["id"]: row["catalog_id"] for row in rows}
    assert all(catalog_ids[song] is None for song in without)
    # a withdrawn song keeps the catalog id it points at, though the catalog no longer has it
    assert set(withdrawn) <= set(catalog_ids.values())


def test_library_albums_to_s3_keeps_albums_whose_catalog_id_was_withdrawn(
    start_emulator: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(albums=300)
    assert emulator.withdrawn_ids("albums")
    result = LibraryAlbumsToS3Operator(
        task_id="export", s3_bucket=s3_bucket.bucket_name, s3_key="albums.jsonl", include=["catalog"]
    ).execute({})  # type: ignore[arg-type]
    rows = _jsonl(s3_bucket.get_object(Bucket=s3_bucket.bucket_name, Key="albums.jsonl")["Body"].read())
    assert rows == emulator.library_items("library-albums", include_catalog=True)
    assert result["album_count"] == len(rows) == len(emulator.library())


def test_changes_between_snapshots_count_songs_without_play_params_and_withdrawn_ones(
    start_emulator: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(songs=SONGS)
    without, _ = _unresolved(emulator)
    for name in ("before", "after"):
        _export(resource="library-songs", path=str(tmp_path / f"{name}.parquet"), file_format="parquet")
    result: dict[str, Any] = LibraryChangesOperator(
        task_id="changes",
        previous=str(tmp_path / "before.parquet"),
        current=str(tmp_path / "after.parquet"),
        path=str(tmp_path / "changes.jsonl"),
    ).execute({})  # type: ignore[arg-type]
    songs = len(emulator.library_items("library-songs"))
    assert (result["added"], result["removed"], result["changed"]) == (0, 0, 0)
    assert result["previous_count"] == result["current_count"] == songs
    assert len(without) < songs
