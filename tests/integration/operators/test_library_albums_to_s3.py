"""LibraryAlbumsToS3Operator against the emulator and moto's S3 server, over real sockets."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError, AppleMusicUserTokenError
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator


def _export(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "export")
    return LibraryAlbumsToS3Operator(**kwargs).execute({})  # type: ignore[arg-type]


def _read(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=client.bucket_name, Key=key)["Body"].read()


def _lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def test_jsonl_object_equals_the_visible_library(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=1050, hidden_every=9)
    result = _export(s3_bucket=s3_bucket.bucket_name, s3_key="albums.jsonl")
    body = _read(s3_bucket, "albums.jsonl")
    assert _lines(body) == emulator.library()
    head = s3_bucket.head_object(Bucket=s3_bucket.bucket_name, Key="albums.jsonl")
    assert head["ContentType"] == "application/x-ndjson"
    assert result == {
        "s3_uri": f"s3://{s3_bucket.bucket_name}/albums.jsonl",
        "album_count": len(emulator.library()),
        "pages": len(emulator.stats.library_pages),
        "skipped_without_date_added": 0,
        "bytes": len(body),
    }
    assert set(emulator.stats.page_sizes) == {100}


def test_json_array_with_catalog_included(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=230)
    _export(
        s3_key=f"s3://{s3_bucket.bucket_name}/x/albums.json",
        file_format="json",
        include=["catalog"],
        page_size=40,
    )
    albums = json.loads(_read(s3_bucket, "x/albums.json"))
    assert [a["id"] for a in albums] == [a["id"] for a in emulator.library()]
    assert all(a["relationships"]["catalog"]["data"][0]["type"] == "albums" for a in albums)


def test_gzip_is_reproducible(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=300)
    for key in ("a.jsonl.gz", "b.jsonl.gz"):
        _export(s3_bucket=s3_bucket.bucket_name, s3_key=key, compression="gzip")
    first, second = _read(s3_bucket, "a.jsonl.gz"), _read(s3_bucket, "b.jsonl.gz")
    assert first == second
    assert _lines(gzip.decompress(first)) == emulator.library()
    head = s3_bucket.head_object(Bucket=s3_bucket.bucket_name, Key="a.jsonl.gz")
    assert head["ContentType"] == "application/gzip"


def test_empty_library_gives_empty_object_and_empty_array(start_emulator: Any, s3_bucket: Any) -> None:
    start_emulator(albums=0)
    assert _export(s3_bucket=s3_bucket.bucket_name, s3_key="e.json", file_format="json")["album_count"] == 0
    assert json.loads(_read(s3_bucket, "e.json")) == []


def test_large_export_uses_multipart_parts(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=20_000)
    result = _export(s3_bucket=s3_bucket.bucket_name, s3_key="big.jsonl")
    assert result["bytes"] > 5 * 1024 * 1024
    head = s3_bucket.head_object(Bucket=s3_bucket.bucket_name, Key="big.jsonl")
    assert "-" in head["ETag"], "a multipart upload's ETag carries the part count"
    assert [a["id"] for a in _lines(_read(s3_bucket, "big.jsonl"))] == [a["id"] for a in emulator.library()]
    assert emulator.stats.max_in_flight <= 8


def test_date_window_keeps_that_days_additions(start_emulator: Any, s3_bucket: Any) -> None:
    from airflow_provider_applemusic.api.dates import date_added, parse_instant

    emulator = start_emulator(albums=3000)
    start, end = parse_instant("2024-03-05", param="x"), parse_instant("2024-03-06", param="x")
    expected = [a for a in emulator.library() if (d := date_added(a)) is not None and start <= d < end]
    without = sum(1 for a in emulator.library() if date_added(a) is None)
    assert expected, "the emulator should have additions on that day"
    result = _export(
        s3_bucket=s3_bucket.bucket_name,
        s3_key="day.jsonl",
        added_after="2024-03-05T00:00:00+00:00",
        added_before="2024-03-06",
    )
    assert _lines(_read(s3_bucket, "day.jsonl")) == expected
    assert result["skipped_without_date_added"] == without
    assert result["album_count"] == len(expected)


@pytest.mark.parametrize("fault", ["429", "500", "drop"])
def test_faults_mid_export_give_exact_content(start_emulator: Any, s3_bucket: Any, fault: str) -> None:
    emulator = start_emulator(albums=2000)
    emulator.inject(fault, count=4, path_prefix="/v1/me/library/albums")
    _export(s3_bucket=s3_bucket.bucket_name, s3_key="f.jsonl")
    assert _lines(_read(s3_bucket, "f.jsonl")) == emulator.library()


def test_developer_token_revocation_mid_export(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=1500, latency_ms=5)
    import threading

    timer = threading.Timer(0.05, emulator.revoke_developer_tokens)
    timer.start()
    _export(s3_bucket=s3_bucket.bucket_name, s3_key="r.jsonl")
    timer.join()
    assert _lines(_read(s3_bucket, "r.jsonl")) == emulator.library()


def test_library_changing_mid_export(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=3000, change_every=3)
    before = {a["id"] for a in emulator.library()}
    _export(s3_bucket=s3_bucket.bucket_name, s3_key="c.jsonl", max_concurrency=4)
    after_library = emulator.library()
    after = {a["id"] for a in after_library}
    got = [a["id"] for a in _lines(_read(s3_bucket, "c.jsonl"))]
    assert len(got) == len(set(got))
    assert (before & after) <= set(got)
    assert set(got) <= before | after
    order = {album_id: i for i, album_id in enumerate(a["id"] for a in after_library)}
    positions = [order[i] for i in got if i in before & after]
    assert positions == sorted(positions)


def test_fatal_error_leaves_previous_object_and_no_upload(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=20_000, latency_ms=30)
    bucket = s3_bucket.bucket_name
    s3_bucket.put_object(Bucket=bucket, Key="keep.jsonl", Body=b"previous\n")
    import threading

    def refuse_when_a_part_is_uploaded() -> None:
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if s3_bucket.list_multipart_uploads(Bucket=bucket).get("Uploads"):
                emulator.revoke_user_token()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=refuse_when_a_part_is_uploaded)
    watcher.start()
    with pytest.raises(AppleMusicUserTokenError, match="Music User Token was refused"):
        _export(s3_bucket=bucket, s3_key="keep.jsonl")
    watcher.join()
    assert _read(s3_bucket, "keep.jsonl") == b"previous\n"
    assert not s3_bucket.list_multipart_uploads(Bucket=bucket).get("Uploads")
    with pytest.raises(AppleMusicUserTokenError):
        _export(s3_bucket=bucket, s3_key="new.jsonl")
    assert "Contents" not in s3_bucket.list_objects_v2(Bucket=bucket, Prefix="new.jsonl")


def test_replace_false_on_existing_key_fails_without_apple_request(
    start_emulator: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(albums=50)
    s3_bucket.put_object(Bucket=s3_bucket.bucket_name, Key="exists.jsonl", Body=b"x")
    with pytest.raises(AppleMusicConfigError, match="already exists and replace=False"):
        _export(s3_bucket=s3_bucket.bucket_name, s3_key="exists.jsonl", replace=False)
    assert emulator.stats.requests == 0
    assert _read(s3_bucket, "exists.jsonl") == b"x"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"added_after": "yesterday"}, "added_after must be an ISO 8601"),
        ({"added_before": 5}, "added_before must be an ISO 8601"),
        ({"added_after": "2024-03-06", "added_before": "2024-03-05"}, "added_after must be earlier"),
        ({"s3_bucket": None, "s3_key": "no-bucket.jsonl"}, "s3_bucket is not set"),
        ({"language": "english please"}, "language must be a language tag"),
    ],
)
def test_bad_templated_parameters_fail_before_any_request(
    start_emulator: Any, s3_bucket: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=20)
    kwargs = {"s3_bucket": s3_bucket.bucket_name, "s3_key": "k.jsonl", **kwargs}
    operator = LibraryAlbumsToS3Operator(task_id="export", **kwargs)
    with pytest.raises(AppleMusicConfigError, match=message):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0
    assert "Contents" not in s3_bucket.list_objects_v2(Bucket=s3_bucket.bucket_name)


def test_templated_dates_are_checked_before_any_request(start_emulator: Any, s3_bucket: Any) -> None:
    emulator = start_emulator(albums=10)
    operator = LibraryAlbumsToS3Operator(
        task_id="export", s3_bucket=s3_bucket.bucket_name, s3_key="t.jsonl", added_after="{{ ds }}"
    )
    operator.added_after = "not a date"
    with pytest.raises(AppleMusicConfigError, match="added_after"):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0


def test_openlineage_facets_name_the_library_and_the_object(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    operator = LibraryAlbumsToS3Operator(task_id="export", s3_key="s3://exports/albums/x.jsonl")
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [(emulator.url, "v1/me/library/albums")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("s3://exports", "albums/x.jsonl")]
