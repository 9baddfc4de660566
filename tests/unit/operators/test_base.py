"""The base operator and the file-output mixin, without a request: hook, destination, guard, assets."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk import Asset

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.location import LocalFileLocation, S3Location
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.operators.base import (
    DEFAULT_CONN_ID,
    SNAPSHOT_STATE_KEY,
    AppleMusicBaseOperator,
    FileOutputMixin,
)
from airflow_provider_applemusic.operators.changes import LibraryChangesOperator
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator, ExportResult
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator
from airflow_provider_applemusic.operators.playlists import (
    AddTracksToPlaylistOperator,
    CreateLibraryPlaylistOperator,
)

RESULT = ExportResult("s3://b/k.jsonl", "library-albums", 3, 120, "jsonl", None, 1, 2, "sha")


class _State:
    def __init__(self, held: Any = None) -> None:
        self.held = {SNAPSHOT_STATE_KEY: held} if held is not None else {}

    def get(self, key: str) -> Any:
        return self.held.get(key)

    def set(self, key: str, value: Any) -> None:
        self.held[key] = value


class _Event:
    extra: Any = None


def test_the_template_fields_are_the_documented_ones() -> None:
    assert AppleMusicExportOperator.template_fields == (
        "path",
        "storage_conn_id",
        "apple_music_conn_id",
        "language",
        "added_after",
        "added_before",
        "resume_within",
    )
    assert LibraryAlbumsToS3Operator.template_fields == (
        "s3_key",
        "s3_bucket",
        "added_after",
        "added_before",
        "language",
        "apple_music_conn_id",
        "aws_conn_id",
    )
    assert LibraryChangesOperator.template_fields == ("path", "previous", "current", "storage_conn_id")
    assert AddToLibraryOperator.template_fields == (
        "ids",
        "isrcs",
        "upcs",
        "apple_music_conn_id",
        "language",
        "storefront",
    )
    assert CreateLibraryPlaylistOperator.template_fields == (
        "name",
        "description",
        "tracks",
        "isrcs",
        "apple_music_conn_id",
        "storefront",
    )
    assert AddTracksToPlaylistOperator.template_fields == (
        "playlist_id",
        "tracks",
        "isrcs",
        "apple_music_conn_id",
        "storefront",
    )


@pytest.mark.parametrize(
    "operator",
    [
        AppleMusicExportOperator(task_id="e", resource="library-albums", path="s3://b/k"),
        LibraryAlbumsToS3Operator(task_id="s", s3_key="s3://b/k"),
        AddToLibraryOperator(task_id="a", ids={"albums": ["1"]}),
        CreateLibraryPlaylistOperator(task_id="c", name="n"),
        AddTracksToPlaylistOperator(task_id="t", playlist_id="p.1"),
    ],
    ids=lambda operator: type(operator).__name__,
)
def test_every_apple_music_operator_has_one_cached_hook_of_its_connection(operator: Any) -> None:
    assert isinstance(operator, AppleMusicBaseOperator)
    assert operator.apple_music_conn_id == DEFAULT_CONN_ID == "apple_music_default"
    assert operator.ui_color == "#fc3c44"
    assert isinstance(operator.hook, AppleMusicHook)
    assert operator.hook is operator.hook
    assert operator.hook.apple_music_conn_id == "apple_music_default"


def test_the_export_hook_carries_max_concurrency_as_its_ceiling() -> None:
    operator = AppleMusicExportOperator(
        task_id="e", resource="library-albums", path="s3://b/k", max_concurrency=3, apple_music_conn_id="x"
    )
    assert (operator.hook.apple_music_conn_id, operator.hook.max_concurrency) == ("x", 3)


def test_the_export_destination_is_the_path_in_its_store(tmp_path: Any) -> None:
    operator = AppleMusicExportOperator(
        task_id="e", resource="library-albums", path="s3://conn@b/k.jsonl", storage_conn_id="given"
    )
    target = operator.destination()
    assert isinstance(target, S3Location)
    assert (target.uri, target.aws_conn_id) == ("s3://b/k.jsonl", "given")
    operator.path = str(tmp_path / "a.jsonl")
    assert operator.destination() == LocalFileLocation(str(tmp_path / "a.jsonl"))


def test_the_s3_destination_is_bucket_and_key_with_its_connection_and_encryption() -> None:
    operator = LibraryAlbumsToS3Operator(
        task_id="s", s3_bucket="b", s3_key="dir/k.jsonl", aws_conn_id="aws", encrypt=True
    )
    target = operator.destination()
    assert (target.uri, target.aws_conn_id, target.encrypt) == ("s3://b/dir/k.jsonl", "aws", True)


def test_each_export_returns_its_documented_xcom() -> None:
    export = AppleMusicExportOperator(task_id="e", resource="library-albums", path="s3://b/k")
    assert export.xcom_value(RESULT) == {
        "uri": "s3://b/k.jsonl",
        "resource": "library-albums",
        "count": 3,
        "bytes": 120,
        "format": "jsonl",
        "compression": None,
        "skipped_without_date_added": 1,
    }
    to_s3 = LibraryAlbumsToS3Operator(task_id="s", s3_key="s3://b/k")
    assert to_s3.xcom_value(RESULT) == {
        "s3_uri": "s3://b/k.jsonl",
        "album_count": 3,
        "pages": 2,
        "skipped_without_date_added": 1,
        "bytes": 120,
    }


def test_replace_false_refuses_an_existing_file_and_replace_true_does_not(tmp_path: Any) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"x")
    operator = AppleMusicExportOperator(
        task_id="e", resource="library-albums", path=str(tmp_path / "a.jsonl"), replace=False
    )
    target = operator.destination()
    with pytest.raises(
        AppleMusicConfigError, match=r"a\.jsonl already exists and replace=False: nothing was read"
    ):
        operator.refuse_existing(target, nothing_was="read")
    operator.refuse_existing(LocalFileLocation(str(tmp_path / "b.jsonl")), nothing_was="read")
    operator.replace = True
    operator.refuse_existing(target, nothing_was="read")


def test_every_outlet_event_carries_the_extra() -> None:
    outlets = [Asset("one"), Asset("two")]
    operator = AppleMusicExportOperator(
        task_id="e", resource="library-albums", path="s3://b/k", outlets=outlets
    )
    events = {outlet: _Event() for outlet in outlets}
    operator.emit_asset_events({"outlet_events": events}, {"uri": "u"})  # type: ignore[arg-type]
    assert [event.extra for event in events.values()] == [{"uri": "u"}, {"uri": "u"}]
    operator.emit_asset_events({}, {"uri": "u"})  # type: ignore[arg-type]  # no events: nothing to do


def test_the_snapshot_is_recorded_on_every_asset_outlet_and_read_back() -> None:
    assets = [Asset("one"), Asset("two")]
    operator = AppleMusicExportOperator(
        task_id="e", resource="library-albums", path="s3://b/k", outlets=assets
    )
    before = {"uri": "s3://b/old.jsonl", "previous_uri": None, "count": 1, "ids_sha256": "x"}
    stores = {assets[0]: _State(before), assets[1]: _State()}
    context: Any = {"asset_state_store": stores}
    operator.record_snapshot(context, RESULT.snapshot_state)
    assert stores[assets[0]].get(SNAPSHOT_STATE_KEY)["previous_uri"] == "s3://b/old.jsonl"
    assert stores[assets[1]].get(SNAPSHOT_STATE_KEY)["previous_uri"] is None
    assert FileOutputMixin.recorded_snapshot(context, assets[1])["uri"] == "s3://b/k.jsonl"
    operator.record_snapshot({}, RESULT.snapshot_state)  # type: ignore[arg-type]  # no stores: nothing to do
