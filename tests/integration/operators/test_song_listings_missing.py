"""
The export and playlist operators on accounts that answer the song listings with 404
(emulator ``song_listings_missing``), against the emulator, moto's S3 server and local disk.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicListingUnavailableError
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator
from airflow_provider_applemusic.operators.playlists import (
    AddTracksToPlaylistOperator,
    CreateLibraryPlaylistOperator,
)


def _export(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "export")
    return AppleMusicExportOperator(**kwargs).execute({})  # type: ignore[arg-type]


def _jsonl(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def test_a_songs_export_fails_before_writing_anything(
    start_emulator: Any, s3_bucket: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(albums=40, songs=300, song_listings_missing=True)
    bucket = s3_bucket.bucket_name
    s3_bucket.put_object(Bucket=bucket, Key="songs.jsonl", Body=b"earlier\n")
    local = tmp_path / "songs.jsonl"
    local.write_bytes(b"earlier\n")
    fresh_folder = tmp_path / "never-made"
    for path in (
        f"s3://{bucket}/songs.jsonl",
        f"s3://{bucket}/new/songs.jsonl",
        str(local),
        str(fresh_folder / "songs.jsonl"),
    ):
        with pytest.raises(
            AppleMusicListingUnavailableError, match="does not serve the library-songs listing"
        ):
            _export(resource="library-songs", path=path)
    assert s3_bucket.get_object(Bucket=bucket, Key="songs.jsonl")["Body"].read() == b"earlier\n"
    assert [o["Key"] for o in s3_bucket.list_objects_v2(Bucket=bucket)["Contents"]] == ["songs.jsonl"]
    assert not s3_bucket.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert local.read_bytes() == b"earlier\n"
    assert sorted(os.listdir(tmp_path)) == ["songs.jsonl"], "the writer was opened (a folder or a temp file)"
    assert emulator.stats.paths["/v1/me/library/songs"] == 4


def test_a_songs_export_of_an_empty_library_writes_an_empty_file(start_emulator: Any, tmp_path: Any) -> None:
    start_emulator(albums=0, songs=0, playlists=0, song_listings_missing=True)
    target = tmp_path / "songs.jsonl"
    result = _export(resource="library-songs", path=str(target))
    assert target.read_bytes() == b"" and result["count"] == 0


def test_playlists_with_their_tracks_export_as_without_the_flag(
    start_emulator: Any, s3_bucket: Any, set_connection: Any
) -> None:
    # relationship_limit=0: every track inline, else the account without the listing cannot reach the rest
    sizes = {"songs": 400, "playlists": 14, "playlist_tracks": 130, "hidden_every": 13}
    sizes["relationship_limit"] = 0
    plain = start_emulator(**sizes)
    set_connection("plain", **plain.connection_dict())
    missing = start_emulator(song_listings_missing=True, **sizes)
    bucket = s3_bucket.bucket_name
    _export(resource="library-playlists", path=f"s3://{bucket}/plain.jsonl", playlist_tracks=True,
            apple_music_conn_id="plain")  # fmt: skip
    _export(resource="library-playlists", path=f"s3://{bucket}/missing.jsonl", playlist_tracks=True)
    exported = {
        key: _jsonl(s3_bucket.get_object(Bucket=bucket, Key=f"{key}.jsonl")["Body"].read())
        for key in ("plain", "missing")
    }
    assert exported["missing"] == exported["plain"]
    tracks = [p["relationships"]["tracks"]["data"] for p in exported["missing"]]
    assert max(len(t) for t in tracks) > 100 and [] in tracks
    for playlist, held in zip(exported["missing"], tracks, strict=True):
        assert held == missing.library_items("library-playlist-tracks", parent_id=playlist["id"], extend=())
    assert missing.stats.statuses[404] == len(tracks), "every playlist's tracks listing answered 404"


def test_a_playlist_built_under_applied_500s_holds_each_track_once(start_emulator: Any) -> None:
    # reading the playlist back goes through include=tracks: without it every song would look
    # missing after an applied 500 and be appended a second time
    emulator = start_emulator(songs=60, playlist_delay=0.5, song_listings_missing=True)
    tracks = emulator.catalog_ids("songs")[:40]
    create = CreateLibraryPlaylistOperator(
        task_id="create", name="Migrated", tracks=tracks[:10], appearance_timeout=10
    )
    playlist_id = create.execute({"run_id": "run-1"})["playlist_id"]  # type: ignore[arg-type]
    emulator.inject("500_applied", count=2, path_prefix=f"/v1/me/library/playlists/{playlist_id}/tracks")
    result = AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=tracks).execute({})  # type: ignore[arg-type]
    assert result["appended"] == 30
    assert emulator.playlist_tracks(playlist_id) == tracks
    assert emulator.stats.playlist_writes["append"] == 2
    again = AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=tracks).execute({})  # type: ignore[arg-type]
    assert again["appended"] == 0
    assert emulator.playlist_tracks(playlist_id) == tracks
