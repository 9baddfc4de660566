"""Replay: AppleMusicExportOperator(resource="replay") and the hooks' get_replay, on the emulator and S3."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook, AppleMusicHook
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

RELATIONSHIP = {"top-songs": "song", "top-albums": "album", "top-artists": "artist"}


def _export(**kwargs: Any) -> dict[str, Any]:
    return AppleMusicExportOperator(task_id="replay", resource="replay", **kwargs).execute({})  # type: ignore[arg-type]


def _expected(emulator: Any) -> list[tuple[str, int, str | None, str | None]]:
    """(view, rank, item id, item name) of every entry the emulator's Replay holds, views in order."""
    summary = emulator.replay()
    found = []
    for view, relationship in RELATIONSHIP.items():
        for rank, entry in enumerate(summary["views"][view]["data"], 1):
            data = entry["relationships"][relationship]["data"]
            item = data[0] if data else None
            found.append((view, rank, item and item["id"], item and item["attributes"]["name"]))
    return found


def _read(client: Any, key: str) -> bytes:
    return bytes(client.get_object(Bucket=client.bucket_name, Key=key)["Body"].read())


def test_replay_to_s3_is_one_row_per_view_rank_and_item(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=30, songs=200)
    uri = f"s3://{s3_bucket.bucket_name}/replay.jsonl"
    result = _export(path=uri)
    rows = [json.loads(line) for line in _read(s3_bucket, "replay.jsonl").splitlines()]
    assert [(r["view"], r["rank"], r["id"], r["name"]) for r in rows] == _expected(emulator)
    year = emulator.replay()["attributes"]["year"]
    assert {(r["year"], r["period"]) for r in rows} == {(year, "year")}
    gone = [r for r in rows if r["id"] is None]
    assert len(gone) == 1 and gone[0]["item"] is None and gone[0]["view"] == "top-songs"  # kept, not dropped
    song = next(r for r in rows if r["view"] == "top-songs" and r["id"])
    assert song["type"] == "songs" and song["item"]["attributes"]["name"] == song["name"]
    assert song["artist_name"] and song["album_name"]
    artist = next(r for r in rows if r["view"] == "top-artists")
    assert artist["type"] == "artists" and artist["album_name"] is None
    assert result["count"] == len(rows) == 45 and result["resource"] == "replay"
    assert emulator.stats.paths["/v1/me/music-summaries"] == 1  # one request


def test_replay_as_parquet_has_its_schema(start_emulator: Any, s3_bucket: Any) -> None:
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files.parquet import schema_for

    emulator = start_emulator(albums=30, songs=200)
    _export(path=f"s3://{s3_bucket.bucket_name}/replay.parquet", file_format="parquet")
    table = pq.read_table(io.BytesIO(_read(s3_bucket, "replay.parquet")))
    assert table.schema.remove_metadata() == schema_for("replay").remove_metadata()
    expected = _expected(emulator)
    assert table.column("id").to_pylist() == [item_id for _, _, item_id, _ in expected]
    assert table.column("rank").to_pylist() == [rank for _, rank, _, _ in expected]
    assert set(table.column("year").to_pylist()) == {emulator.replay()["attributes"]["year"]}
    first = json.loads(table.column("resource_json")[0].as_py())
    assert first["item"]["id"] == expected[0][2]


def test_no_replay_year_yet_is_an_empty_export_not_a_failure(start_emulator: Any, tmp_path: Any) -> None:
    start_emulator(albums=5, replay_missing=True)
    for file_format in ("jsonl", "parquet"):
        target = tmp_path / f"replay.{file_format}"
        result = _export(path=f"file://{target}", file_format=file_format)
        assert result["count"] == 0 and target.exists()
    assert (tmp_path / "replay.jsonl").read_bytes() == b""
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "replay.parquet").num_rows == 0


def test_a_failed_replay_leaves_the_previous_file(start_emulator: Any, tmp_path: Any) -> None:
    emulator = start_emulator(albums=5)
    target = tmp_path / "replay.jsonl"
    target.write_text("previous\n")
    emulator.revoke_user_token()
    with pytest.raises(Exception, match="Music User Token"):
        _export(path=f"file://{target}")
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["replay.jsonl"]


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"added_after": "2024-01-01"}, "added_after does not apply to resource 'replay'"),
        ({"page_size": 10, "include": ["catalog"]}, "include, page_size do not apply to resource 'replay'"),
        ({"extend": "dateAdded", "playlist_tracks": True}, "extend, playlist_tracks do not apply"),
        ({"added_before": "2024-01-01", "added_after": None}, "added_before does not apply"),
    ],
)
def test_arguments_that_do_not_apply_are_refused_by_name(
    start_emulator: Any, kwargs: dict[str, Any], names: str
) -> None:
    emulator = start_emulator(albums=5, shared=True)
    with pytest.raises(AppleMusicConfigError, match=names):
        AppleMusicExportOperator(task_id="t", resource="replay", path="s3://bucket/replay.jsonl", **kwargs)
    assert not emulator.stats.requests


def test_the_async_hook_drives_the_same_plan(start_emulator: Any) -> None:
    import asyncio

    emulator = start_emulator(albums=10, songs=60)

    async def fetch() -> Any:
        hook = AppleMusicAsyncHook()
        try:
            return await hook.get_replay()
        finally:
            await hook.aclose()

    assert asyncio.run(fetch()) == AppleMusicHook().get_replay() == emulator.replay()
    emulator.replay_missing = True
    assert asyncio.run(fetch()) is None and AppleMusicHook().get_replay() is None


def test_replay_is_not_a_listing_to_page(start_emulator: Any) -> None:
    start_emulator(albums=5, shared=True)
    with pytest.raises(AppleMusicConfigError, match="replay is not paged"):
        list(AppleMusicHook().iter_library("replay"))
