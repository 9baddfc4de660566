"""
Every public parameter with invalid values: an error naming the parameter and what is allowed,
raised before any side effect (the emulator saw no request, the bucket holds nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor

if TYPE_CHECKING:
    from collections.abc import Callable

MEGABYTE_ID = "1" * 1_000_000
BAD_IDS: list[tuple[Any, str]] = [
    ({}, "holds no catalog ids"),
    ({"albums": []}, "holds no catalog ids"),
    ({"podcasts": ["1"]}, "unknown resource type 'podcasts'"),
    ({"albums": ["l.Abc123"]}, "malformed catalog id 'l.Abc123'"),
    ({"playlists": ["123"]}, "malformed catalog id '123'"),
    ({"albums": [MEGABYTE_ID]}, "malformed catalog id '1111"),
    ({"albums": 5}, "must be a list of catalog ids"),
    ({"albums": [1.5]}, "not a string id"),
    (["1577502911"], "must be a mapping"),
    ("not json", "not JSON"),
]


def _hook_calls() -> list[tuple[str, Callable[[AppleMusicHook], Any], str]]:
    return [
        ("page_size=0", lambda h: h.get_library_albums_page(0, page_size=0), "page_size must be"),
        ("page_size=101", lambda h: list(h.iter_library_albums(page_size=101)), "page_size must be"),
        ("page_size='100'", lambda h: list(h.iter_library_albums(page_size="100")), "page_size must be"),  # type: ignore[arg-type]
        ("offset=-1", lambda h: h.get_library_albums_page(-1), "offset must be"),
        ("enrich=lyrics", lambda h: h.iter_library_albums(enrich=["lyrics"]), "enrich may hold 'catalog'"),
        (
            "enrich on artists",
            lambda h: h.iter_library("library-artists", enrich="ratings"),
            "artists have no ratings",
        ),
        ("include=[1]", lambda h: h.get_library_albums_page(0, include=[1]), "include must be"),  # type: ignore[list-item]
        ("language", lambda h: h.get_library_albums_page(0, language="english please"), "language must be"),
        (
            "add language",
            lambda h: h.add_to_library({"albums": ["1"]}, language="x" * 50),
            "language must be",
        ),
        (
            "storefront",
            lambda h: h.find_in_library({"albums": ["1"]}, storefront="../us"),
            "storefront must be",
        ),
        *[
            (f"add ids {m}", lambda h, i=i: h.add_to_library(i), m)
            for i, m in BAD_IDS
            if not isinstance(i, str)
        ],
        *[
            (f"find ids {m}", lambda h, i=i: h.find_in_library(i), m)
            for i, m in BAD_IDS
            if not isinstance(i, str)
        ],
        (
            "timeout_seconds",
            lambda h: AppleMusicHook(timeout_seconds=-1).get_storefront(),
            "'timeout_seconds'",
        ),
        ("max_attempts", lambda h: AppleMusicHook(max_attempts=0).get_storefront(), "'max_attempts'"),
        (
            "max_retry_seconds",
            lambda h: AppleMusicHook(max_retry_seconds="x").get_storefront(),
            "'max_retry_seconds'",
        ),  # type: ignore[arg-type]
        ("max_concurrency", lambda h: AppleMusicHook(max_concurrency=0), "max_concurrency must be"),
    ]


HOOK_CALLS = _hook_calls()


@pytest.mark.parametrize(("name", "call", "message"), HOOK_CALLS, ids=[c[0] for c in HOOK_CALLS])
def test_hook_refuses_bad_input_before_any_request(
    start_emulator: Any, name: str, call: Callable[[AppleMusicHook], Any], message: str
) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        call(AppleMusicHook())
    assert emulator.stats.requests == 0


EXPORT_ARGS: list[tuple[dict[str, Any], str]] = [
    ({"page_size": 0}, "page_size must be an integer from 1 to 100"),
    ({"page_size": 100.0}, "page_size must be"),
    ({"max_concurrency": 65}, "max_concurrency must be an integer from 1 to 64"),
    ({"max_concurrency": "8"}, "max_concurrency must be"),
    ({"file_format": "parquet"}, "file_format must be one of jsonl, json"),
    ({"compression": "bz2"}, "compression must be None or 'gzip'"),
    ({"added_after": "2024-13-45"}, "added_after must be an ISO 8601"),
    ({"added_before": ["2024-01-01"]}, "added_before must be an ISO 8601"),
    ({"added_after": "2024-02-01", "added_before": "2024-01-01"}, "added_after must be earlier"),
    ({"added_after": "2024-02-01", "added_before": "2024-02-01"}, "empty data interval"),
    ({"s3_key": ""}, "s3_key must be a non-empty"),
    ({"s3_bucket": None, "s3_key": "albums.jsonl"}, "s3_bucket is not set"),
    ({"include": "cat alog"}, "include must be relationship names"),
    ({"language": "english"}, "language must be a language tag"),
    ({"replace": "no"}, "replace must be True or False"),
    ({"encrypt": 1}, "encrypt must be True or False"),
]


@pytest.mark.parametrize(("kwargs", "message"), EXPORT_ARGS)
def test_export_refuses_bad_arguments_before_any_side_effect(
    start_emulator: Any, s3_bucket: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=5)
    arguments = {"s3_bucket": s3_bucket.bucket_name, "s3_key": "albums.jsonl", **kwargs}
    with pytest.raises(AppleMusicConfigError, match=message.replace("(", r"\(")):
        LibraryAlbumsToS3Operator(task_id="export", **arguments).execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0
    assert "Contents" not in s3_bucket.list_objects_v2(Bucket=s3_bucket.bucket_name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        *[({"ids": ids}, message) for ids, message in BAD_IDS],
        ({"ids": {"albums": ["1"]}, "on_unknown": "maybe"}, "on_unknown must be one of fail, warn, ignore"),
        ({"ids": {"albums": ["1"]}, "language": "??"}, "language must be a language tag"),
        ({"ids": {"albums": ["1"]}, "storefront": "USA"}, "storefront must be a two-letter"),
    ],
)
def test_add_refuses_bad_arguments_before_any_request(
    start_emulator: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match=message):
        AddToLibraryOperator(task_id="add", **kwargs).execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        *[({"ids": ids}, message) for ids, message in BAD_IDS],
        ({"ids": {"albums": ["1"]}, "storefront": "u s"}, "storefront must be a two-letter"),
    ],
)
def test_sensor_refuses_bad_arguments_before_any_request(
    start_emulator: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match=message):
        LibraryItemsSensor(task_id="wait", timeout=5, **kwargs).execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0


def test_rendered_bad_values_are_refused_at_run_time_before_any_request(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    add = AddToLibraryOperator(task_id="add", ids="{{ params.ids }}", storefront="{{ params.sf }}")
    add.ids, add.storefront = '{"albums": ["1"]}', "not a storefront"
    with pytest.raises(AppleMusicConfigError, match="storefront must be"):
        add.execute({})  # type: ignore[arg-type]
    sensor = LibraryItemsSensor(task_id="wait", ids="{{ params.ids }}", timeout=5)
    sensor.ids = '{"songs": ["pl.x"]}'
    with pytest.raises(AppleMusicConfigError, match=r"malformed catalog id .pl\.x."):
        sensor.execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0
