"""PlayActivityImportOperator on the emulator's privacy exports: local files, S3 (moto server), DAG runs."""

from __future__ import annotations

import hashlib
import io
import json
import os
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.emulator.privacy_export import (
    CONTAINERS,
    VARIANTS,
    PrivacyExport,
    write_privacy_export,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.play_activity import PlayActivityImportOperator

if TYPE_CHECKING:
    import pathlib


def _import(source: str, path: str, run_id: str = "import_1", **kwargs: Any) -> dict[str, Any]:
    operator = PlayActivityImportOperator(task_id="import", source=source, path=path, **kwargs)
    return operator.execute({"run_id": run_id})  # type: ignore[arg-type]


def _ledger(root: pathlib.Path) -> list[dict[str, Any]]:
    rows = []
    for file in sorted(root.rglob("*.jsonl")):
        rows += [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
    return rows


def _key(play: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        play[name] for name in ("played_at", "name", "artist_name", "album_name", "catalog_id", "duration_ms")
    )


def _assert_exact(rows: list[dict[str, Any]], export: PrivacyExport, result: dict[str, Any]) -> None:
    truth = export.truth
    assert sorted(_key(row) for row in rows) == sorted(_key(play) for play in truth.plays)
    assert len({row["play_id"] for row in rows}) == len(rows) == truth.play_count
    assert result["rows_read"] == truth.rows
    assert result["skipped"] == dict(sorted(truth.skipped.items()))
    assert result["plays_found"] == result["plays_written"] == truth.play_count
    assert {row["source"] for row in rows} == {"privacy-export"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_header_variant_is_imported_exactly(variant: str, tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=1500, variant=variant, container="zip", malformed=2)
    result = _import(export.source, f"file://{tmp_path}/ledger")
    rows = _ledger(tmp_path / "ledger")
    _assert_exact(rows, export, result)
    assert export.truth.segments_joined > 10 and result["skipped"]["malformed"] == 2
    assert result["with_catalog_id"] == sum(1 for p in export.truth.plays if p["catalog_id"])
    true_ids = {_key({**p, "catalog_id": None}): p["true_catalog_id"] for p in export.truth.plays}
    for row in rows:  # a catalog id found is the track's own, never a guess
        assert row["catalog_id"] in (None, true_ids[_key({**row, "catalog_id": None})])
    with_id = [p for p in export.truth.plays if p["true_catalog_id"]]
    assert sum(1 for p in with_id if p["catalog_id"]) >= 0.9 * len(with_id)
    if export.truth.plays[0]["event_id"]:  # exports with Event ID: the id is its digest
        ids = {
            hashlib.blake2b(f"event|{p['event_id']}".encode(), digest_size=10).hexdigest()
            for p in export.truth.plays
        }
        assert {row["play_id"] for row in rows} == ids
    for row in rows:  # one file per day the play began on
        assert row["played_at"] == row["estimated_played_at"]
    days = {row["played_at"][:10] for row in rows}
    assert sorted(p.parent.name for p in (tmp_path / "ledger").rglob("*.jsonl")) == sorted(
        f"date={day}" for day in days
    )


@pytest.mark.parametrize("container", CONTAINERS)
def test_each_container_from_local_files(container: str, tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=800, variant="2021", container=container)
    result = _import(export.source, str(tmp_path / "ledger"))
    _assert_exact(_ledger(tmp_path / "ledger"), export, result)
    assert (result["daily_tracks"]["rows"] > 0) is (container != "csv")


def _upload(client: Any, export: PrivacyExport, root: pathlib.Path, prefix: str) -> str:
    """The export's files put under ``prefix`` in the bucket, as they are under ``root``; its S3 URL."""
    bucket = client.bucket_name
    for folder, _, names in os.walk(root):
        for name in names:
            local = os.path.join(folder, name)
            client.upload_file(local, bucket, f"{prefix}/{os.path.relpath(local, root)}")
    return f"s3://{bucket}/{prefix}/{os.path.relpath(export.source, root)}"


@pytest.mark.parametrize("container", ["zip", "nested", "split", "pieces", "csv", "folder"])
def test_each_container_from_s3(container: str, tmp_path: pathlib.Path, s3_bucket: Any) -> None:
    root = tmp_path / "export"
    root.mkdir()
    export = write_privacy_export(str(root), rows=600, variant="2023", container=container)
    source = _upload(s3_bucket, export, root, "privacy")
    bucket = s3_bucket.bucket_name
    result = _import(
        source + ("/" if container in ("split", "pieces", "folder") else ""), f"s3://{bucket}/plays"
    )
    assert result["path"] == f"s3://{bucket}/plays"
    keys = [o["Key"] for o in s3_bucket.list_objects_v2(Bucket=bucket, Prefix="plays/")["Contents"]]
    rows = []
    for key in keys:
        body = s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        rows += [json.loads(line) for line in body.splitlines()]
    _assert_exact(rows, export, result)
    assert len(keys) == result["files"]


def test_a_parquet_ledger_on_s3_in_a_real_dag_run_and_a_rerun_adds_nothing(
    tmp_path: pathlib.Path, s3_bucket: Any, load_dag: Any
) -> None:
    import datetime as dt

    import pyarrow.parquet as pq
    from airflow.utils.state import DagRunState

    from airflow_provider_applemusic.files.parquet import schema_for
    from tests.support import xcom_value

    root = tmp_path / "export"
    root.mkdir()
    export = write_privacy_export(str(root), rows=700, variant="2025", container="nested")
    source = _upload(s3_bucket, export, root, "downloads")
    bucket = s3_bucket.bucket_name
    dag = load_dag(
        "privacy_import",
        f"""
        import pendulum
        from airflow.sdk import DAG, Asset

        from airflow_provider_applemusic.operators.play_activity import PlayActivityImportOperator

        with DAG("privacy_import", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
            PlayActivityImportOperator(
                task_id="import",
                source="{source}",
                path="s3://{bucket}/plays",
                file_format="parquet",
                outlets=[Asset(name="privacy_import_ledger", uri="s3://{bucket}/plays")],
            )
        """,
    )
    when = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
    run = dag.test(logical_date=when, run_after=when)
    assert run.state == DagRunState.SUCCESS
    result = xcom_value(run, "import")
    rows = []
    for item in s3_bucket.list_objects_v2(Bucket=bucket, Prefix="plays/")["Contents"]:
        assert item["Key"].endswith(".parquet") and "/date=" in item["Key"]
        body = s3_bucket.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        assert table.schema.remove_metadata() == schema_for("ledger").remove_metadata()
        assert table.column("played_at").type.tz == "UTC"
        rows += [json.loads(text) for text in table.column("resource_json").to_pylist()]
    _assert_exact(rows, export, result)
    later = when + dt.timedelta(hours=1)
    again = dag.test(logical_date=later, run_after=later)
    assert again.state == DagRunState.SUCCESS
    second = xcom_value(again, "import")
    assert second["plays_written"] == 0 and second["already_in_ledger"] == export.truth.play_count
    assert len(s3_bucket.list_objects_v2(Bucket=bucket, Prefix="plays/")["Contents"]) == result["files"]


@pytest.mark.parametrize(
    ("old_variant", "new_variant"),
    [
        ("2023", "2023"),  # play ids from Event ID
        ("2019-08", "2019-08"),  # from time, device and song
        ("2021", "2025"),  # the newer export has Event IDs the older had not: its start and song match
    ],
)
def test_a_newer_export_adds_only_the_plays_not_in_the_ledger(
    old_variant: str, new_variant: str, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = write_privacy_export(
        str(tmp_path / "old"), rows=600, variant=old_variant, container="zip", tracks=60
    )
    new = write_privacy_export(
        str(tmp_path / "new"), rows=1200, variant=new_variant, container="zip", tracks=60
    )
    ledger = f"file://{tmp_path}/ledger"
    first = _import(old.source, ledger, "import_old")
    assert first["plays_written"] == old.truth.play_count
    assert _import(old.source, ledger, "import_old_again")["plays_written"] == 0
    second = _import(new.source, ledger, "import_new")
    rows = _ledger(tmp_path / "ledger")
    assert second["already_in_ledger"] == old.truth.play_count
    assert second["plays_written"] == new.truth.play_count - old.truth.play_count
    assert len(rows) == new.truth.play_count
    assert sorted(r["played_at"] for r in rows) == sorted(p["played_at"] for p in new.truth.plays)


def test_a_retry_of_the_same_run_rewrites_its_own_files(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=400, container="zip")
    ledger = str(tmp_path / "ledger")
    first = _import(export.source, ledger, "run_a")
    again = _import(export.source, ledger, "run_a")  # its own files are not "already in the ledger"
    assert again["plays_written"] == first["plays_written"] == export.truth.play_count
    assert len(_ledger(tmp_path / "ledger")) == export.truth.play_count


def test_a_file_that_is_not_an_export_fails_naming_it_and_its_columns(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "Apple Music - Track Play History.csv"
    path.write_text("Track Name,Last Played Date,Is User Initiated\nSong,1700000000000,true\n")
    with pytest.raises(AppleMusicConfigError) as caught:
        _import(str(path), str(tmp_path / "ledger"))
    message = str(caught.value)
    assert "Apple Music - Track Play History.csv is not the play activity" in message
    assert "the columns found: Track Name, Last Played Date, Is User Initiated" in message
    assert not (tmp_path / "ledger").exists()


def test_a_zip_without_the_play_activity_fails_before_any_file_is_written(tmp_path: pathlib.Path) -> None:
    import zipfile

    archive = tmp_path / "Apple Media Services information.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("Apple Media Services information/Apple ID Account Information.csv", "a,b\n1,2\n")
    with pytest.raises(AppleMusicConfigError, match=r"no 'Apple Music Play Activity\.csv' in file://"):
        _import(str(archive), str(tmp_path / "ledger"))
    with pytest.raises(AppleMusicConfigError, match="source: nothing at file://"):
        _import(str(tmp_path / "missing.zip"), str(tmp_path / "ledger"))
    assert not (tmp_path / "ledger").exists()


def test_malformed_rows_are_counted(tmp_path: pathlib.Path) -> None:
    export = write_privacy_export(str(tmp_path), rows=500, container="csv", malformed=4)
    result = _import(export.source, str(tmp_path / "ledger"))
    assert result["skipped"]["malformed"] == 4
    _assert_exact(_ledger(tmp_path / "ledger"), export, result)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"file_format": "csv"}, "file_format must be one of jsonl, parquet"),
        ({"source": 3}, "source must be a URL"),
        ({"path": ""}, "path must be a URL"),
        ({"min_fraction": 2}, "min_fraction must be between 0 and 1"),
        ({"min_seconds": -30}, "min_seconds must be 0 or more"),
        ({"join_within_seconds": "30 minutes"}, "join_within_seconds must be a number"),
        ({"skip_media_types": "VIDEO"}, "skip_media_types must be a list of strings"),
    ],
)
def test_bad_arguments_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "task_id": "t",
        "source": "s3://b/export.zip",
        "path": "s3://b/plays",
        **kwargs,
    }
    with pytest.raises(AppleMusicConfigError, match=message):
        PlayActivityImportOperator(**arguments)


def test_an_export_given_twice_in_one_folder_gives_each_play_once(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "download"
    root.mkdir()
    export = write_privacy_export(str(root), rows=700, variant="2019-08", container="zip")
    assert (root / "export").is_dir()  # the zip, and beside it the same files extracted
    result = _import(str(root), str(tmp_path / "ledger"))
    rows = _ledger(tmp_path / "ledger")
    assert sorted(_key(row) for row in rows) == sorted(_key(play) for play in export.truth.plays)
    assert result["rows_read"] == 2 * export.truth.rows
    assert result["plays_written"] == export.truth.play_count
