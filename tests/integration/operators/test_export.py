"""AppleMusicExportOperator against the emulator, moto's S3 server and local disk."""

from __future__ import annotations

import gzip
import io
import json
import os
from typing import Any

import pytest

from airflow_provider_applemusic.api.resources import LISTING_RESOURCES
from airflow_provider_applemusic.exceptions import AppleMusicConfigError, AppleMusicRequestError
from airflow_provider_applemusic.operators.export import EXPORTABLE, AppleMusicExportOperator

SIZES = {"albums": 230, "songs": 640, "artists": 120, "playlists": 60, "music_videos": 90, "history": 45}


def _expected(emulator: Any, resource: str) -> list[dict[str, Any]]:
    """What the export must hold: the listing as asked for (with the row's extended attributes)."""
    return emulator.library_items(resource, extend=LISTING_RESOURCES[resource].extended)


def _export(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "export")
    return AppleMusicExportOperator(**kwargs).execute({})  # type: ignore[arg-type]


def _jsonl(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def _read_s3(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=client.bucket_name, Key=key)["Body"].read()


@pytest.mark.parametrize("resource", EXPORTABLE)
def test_every_resource_to_s3_equals_the_library(start_emulator: Any, s3_bucket: Any, resource: str) -> None:
    emulator = start_emulator(hidden_every=11, **SIZES)
    uri = f"s3://{s3_bucket.bucket_name}/{resource}.jsonl"
    result = _export(resource=resource, path=uri)
    body = _read_s3(s3_bucket, f"{resource}.jsonl")
    expected = _expected(emulator, resource)
    assert len(expected) > 10
    assert _jsonl(body) == expected
    assert result == {
        "uri": uri,
        "resource": resource,
        "count": len(expected),
        "bytes": len(body),
        "format": "jsonl",
        "compression": None,
        "skipped_without_date_added": 0,
    }


@pytest.mark.parametrize("resource", EXPORTABLE)
def test_every_resource_to_a_local_file_equals_the_library(
    start_emulator: Any, tmp_path: Any, resource: str
) -> None:
    emulator = start_emulator(**SIZES)
    target = tmp_path / "out" / f"{resource}.jsonl"
    result = _export(resource=resource, path=f"file://{target}")
    assert _jsonl(target.read_bytes()) == _expected(emulator, resource)
    assert result["uri"] == f"file://{target}"
    assert os.listdir(target.parent) == [target.name], "a temporary file was left behind"


def test_a_plain_absolute_path_and_an_object_storage_path_work(start_emulator: Any, tmp_path: Any) -> None:
    from airflow.sdk import ObjectStoragePath

    emulator = start_emulator(albums=40)
    _export(resource="library-albums", path=str(tmp_path / "plain.jsonl"))
    _export(resource="library-albums", path=ObjectStoragePath(f"file://{tmp_path}/osp.jsonl"))
    for name in ("plain.jsonl", "osp.jsonl"):
        assert _jsonl((tmp_path / name).read_bytes()) == emulator.library()


def test_another_store_is_staged_then_uploaded_once(start_emulator: Any) -> None:
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    # fsspec's in-memory store stands for GCS, Azure and the rest: any store without a writer of its own
    attach("memory", fs=fsspec.filesystem("memory"))
    emulator = start_emulator(songs=150)
    target = ObjectStoragePath("memory://exports/songs.json")
    result = _export(resource="library-songs", path=target, file_format="json")
    assert json.loads(target.read_bytes()) == emulator.library_items("library-songs")
    assert result["uri"] == "memory://exports/songs.json"


@pytest.mark.parametrize(
    ("file_format", "compression"),
    [("jsonl", None), ("jsonl", "gzip"), ("json", None), ("json", "gzip"), ("parquet", "snappy"),
     ("parquet", "zstd"), ("parquet", None), ("parquet", "auto"), ("jsonl", "auto")],
)  # fmt: skip
def test_every_format_and_compression(
    start_emulator: Any, s3_bucket: Any, file_format: str, compression: str | None
) -> None:
    emulator = start_emulator(songs=320)
    key = f"songs.{file_format}.{compression}"
    result = _export(
        resource="library-songs",
        path=f"s3://{s3_bucket.bucket_name}/{key}",
        file_format=file_format,
        compression=compression,
    )
    body = _read_s3(s3_bucket, key)
    expected = emulator.library_items("library-songs")
    resolved = {"auto": "snappy" if file_format == "parquet" else None}.get(str(compression), compression)
    assert result["compression"] == resolved
    if file_format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(body))
        assert [json.loads(text) for text in table.column("resource_json").to_pylist()] == expected
        assert table.column("id").to_pylist() == [item["id"] for item in expected]
        codecs = {pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0).column(0).compression}
        assert codecs == {(resolved or "uncompressed").upper()}
        return
    if resolved == "gzip":
        body = gzip.decompress(body)
    items = _jsonl(body) if file_format == "jsonl" else json.loads(body)
    assert items == expected


def test_parquet_columns_are_typed_and_the_bytes_are_stable(start_emulator: Any, tmp_path: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files.parquet import schema_for

    emulator = start_emulator(albums=300)
    for name in ("a.parquet", "b.parquet"):
        _export(resource="library-albums", path=str(tmp_path / name), file_format="parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.schema.remove_metadata() == schema_for("library-albums").remove_metadata()
    assert table.schema.field("date_added").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("genre_names").type == pa.list_(pa.string())
    rows = table.to_pylist()
    albums = emulator.library()
    assert [row["name"] for row in rows] == [a["attributes"]["name"] for a in albums]
    assert [row["track_count"] for row in rows] == [a["attributes"]["trackCount"] for a in albums]
    dated = [row for row in rows if row["date_added"] is not None]
    assert len(dated) > 250


def test_playlists_carry_all_their_tracks(start_emulator: Any, tmp_path: Any) -> None:
    emulator = start_emulator(songs=400, playlists=14, playlist_tracks=130)
    target = tmp_path / "playlists.jsonl"
    _export(resource="library-playlists", path=str(target), playlist_tracks=True)
    playlists = _jsonl(target.read_bytes())
    assert [p["id"] for p in playlists] == [p["id"] for p in emulator.library_items("library-playlists")]
    empty = set(emulator.playlist_ids(with_tracks=False))
    assert empty
    for playlist in playlists:
        tracks = playlist["relationships"]["tracks"]["data"]
        expected = emulator.library_items("library-playlist-tracks", parent_id=playlist["id"], extend=())
        assert tracks == ([] if playlist["id"] in empty else expected)
    assert max(len(p["relationships"]["tracks"]["data"]) for p in playlists) > 100


def test_a_failure_mid_export_leaves_no_file_and_the_old_one_intact(
    start_emulator: Any, s3_bucket: Any, tmp_path: Any, set_connection: Any
) -> None:
    emulator = start_emulator(songs=2000)
    fields = emulator.connection_dict()
    fields["extra"].update(max_attempts=2, max_retry_seconds=3)
    set_connection(**fields)
    emulator.inject("500", count=100_000, path_prefix="/v1/me/library/songs", offset=990)
    local = tmp_path / "songs.jsonl"
    local.write_bytes(b"earlier\n")
    s3_bucket.put_object(Bucket=s3_bucket.bucket_name, Key="songs.jsonl", Body=b"earlier\n")
    for path in (str(local), f"s3://{s3_bucket.bucket_name}/songs.jsonl"):
        with pytest.raises(AppleMusicRequestError, match="code 50001"):
            _export(resource="library-songs", path=path, max_concurrency=2)
    assert local.read_bytes() == b"earlier\n"
    assert os.listdir(tmp_path) == ["songs.jsonl"]
    assert _read_s3(s3_bucket, "songs.jsonl") == b"earlier\n"
    assert not s3_bucket.list_multipart_uploads(Bucket=s3_bucket.bucket_name).get("Uploads")
    for path in (str(tmp_path / "new.jsonl"), f"s3://{s3_bucket.bucket_name}/new.jsonl"):
        with pytest.raises(AppleMusicRequestError):
            _export(resource="library-songs", path=path, max_concurrency=2)
    assert not (tmp_path / "new.jsonl").exists()
    assert "Contents" not in s3_bucket.list_objects_v2(Bucket=s3_bucket.bucket_name, Prefix="new.jsonl")


def test_replace_false_refuses_an_existing_file_before_any_request(
    start_emulator: Any, s3_bucket: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(albums=20)
    (tmp_path / "a.jsonl").write_bytes(b"x")
    s3_bucket.put_object(Bucket=s3_bucket.bucket_name, Key="a.jsonl", Body=b"x")
    for path in (str(tmp_path / "a.jsonl"), f"s3://{s3_bucket.bucket_name}/a.jsonl"):
        with pytest.raises(AppleMusicConfigError, match="already exists and replace=False"):
            _export(resource="library-albums", path=path, replace=False)
    assert emulator.stats.requests == 0
    _export(resource="library-albums", path=str(tmp_path / "b.jsonl"), replace=False)
    assert len(_jsonl((tmp_path / "b.jsonl").read_bytes())) == 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resource": "library-podcasts"}, "resource must be one of library-albums"),
        ({"resource": "library-playlist-tracks"}, "resource must be one of"),
        ({"file_format": "csv"}, "file_format must be one of jsonl, json, parquet"),
        ({"file_format": "parquet", "compression": "gzip"}, "compression must be 'auto' or one of 'snappy'"),
        ({"file_format": "jsonl", "compression": "zstd"}, "for file_format 'jsonl'"),
        *(
            (
                {"resource": resource, "added_after": "2024-01-01"},
                f"never returns for resource '{resource}'; resources that allow date windows: "
                "library-albums, library-songs, library-artists, library-playlists$",
            )
            for resource in (
                "library-music-videos",
                "recently-added",
                "recently-played-tracks",
                "heavy-rotation",
            )
        ),
        ({"resource": "library-albums", "playlist_tracks": True}, "playlist_tracks is only for"),
        ({"page_size": 101}, "page_size must be an integer from 1 to 100"),
        ({"max_concurrency": 0}, "max_concurrency must be an integer"),
        ({"replace": "no"}, "replace must be True or False"),
    ],
)
def test_bad_arguments_fail_at_construction(
    start_emulator: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=5)
    kwargs = {"resource": "library-songs", "path": "s3://b/k.jsonl", **kwargs}
    with pytest.raises(AppleMusicConfigError, match=message):
        AppleMusicExportOperator(task_id="export", **kwargs)
    assert emulator.stats.requests == 0


@pytest.mark.parametrize(
    "resource", ["library-albums", "library-songs", "library-artists", "library-playlists"]
)
def test_a_date_window_keeps_the_items_added_in_it_on_every_resource_with_date_added(
    start_emulator: Any, tmp_path: Any, resource: str
) -> None:
    emulator = start_emulator(albums=60, songs=80, artists=60, playlists=40)
    expected = [
        item["id"]
        for item in emulator.library_items(resource)
        if "2024-03-01" <= (item["attributes"].get("dateAdded") or "")[:10] < "2024-09-01"
    ]
    assert expected, "the window holds some items"
    path = tmp_path / "window.jsonl"
    _export(resource=resource, path=str(path), added_after="2024-03-01", added_before="2024-09-01")
    assert [item["id"] for item in _jsonl(path.read_bytes())] == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "path must be an ObjectStoragePath or a URL"),
        ("s3://bucket-only", "path must name a bucket and a key"),
        ("s3://bucket/folder/", "path must name a bucket and a key"),
        ("relative/file.jsonl", "path must be a URL with a scheme"),
        (None, "path must be an ObjectStoragePath or a URL"),
    ],
)
def test_bad_paths_fail_before_any_request(start_emulator: Any, path: Any, message: str) -> None:
    emulator = start_emulator(albums=5)
    operator = AppleMusicExportOperator(task_id="export", resource="library-albums", path=path)
    with pytest.raises(AppleMusicConfigError, match=message):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0


@pytest.mark.parametrize("resource", EXPORTABLE)
def test_every_resource_as_parquet_holds_every_item_in_order(
    start_emulator: Any, tmp_path: Any, resource: str
) -> None:
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files.parquet import schema_for

    emulator = start_emulator(**SIZES)
    target = tmp_path / f"{resource}.parquet"
    _export(resource=resource, path=str(target), file_format="parquet")
    table = pq.read_table(target)
    assert table.schema.remove_metadata() == schema_for(resource).remove_metadata()
    resources = [json.loads(text) for text in table.column("resource_json").to_pylist()]
    assert resources == _expected(emulator, resource)


DAG_SOURCE = """
import pendulum
from airflow.sdk import DAG

from airflow_provider_applemusic.operators.export import AppleMusicExportOperator

with DAG("{dag_id}", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    AppleMusicExportOperator(
        task_id="songs",
        resource="library-songs",
        path="file://{folder}/songs/{{{{ ds }}}}.parquet",
        file_format="parquet",
        compression="zstd",
    )
"""


def test_dag_runs_export_songs_to_parquet(start_emulator: Any, load_dag: Any, tmp_path: Any) -> None:
    import datetime as dt

    import pyarrow.parquet as pq
    from airflow.utils.state import DagRunState

    from tests.support import xcom_value

    emulator = start_emulator(songs=1200)
    dag = load_dag(
        "applemusic_songs_parquet", DAG_SOURCE.format(dag_id="applemusic_songs_parquet", folder=tmp_path)
    )
    for day in (
        dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 5, 2, tzinfo=dt.timezone.utc),
    ):
        run = dag.test(logical_date=day)
        assert run.state == DagRunState.SUCCESS
        target = tmp_path / "songs" / f"{day.date().isoformat()}.parquet"
        table = pq.read_table(target)
        assert table.column("id").to_pylist() == [s["id"] for s in emulator.library_items("library-songs")]
        result = xcom_value(run, "songs")
        assert result == {
            "uri": f"file://{target}",
            "resource": "library-songs",
            "count": 1200,
            "bytes": target.stat().st_size,
            "format": "parquet",
            "compression": "zstd",
            "skipped_without_date_added": 0,
        }
