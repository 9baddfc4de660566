"""
Every public parameter with invalid values: an error naming the parameter and what is allowed,
raised before any side effect (the emulator saw no request, the bucket holds nothing).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.paging import PAGING_STEP_BACKS, PageStitcher
from airflow_provider_applemusic.api.windows import AddedWindow
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import encode_json
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


# -- property-based: page bodies with missing or extra fields ------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
albums = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(min_size=1, max_size=12),
        "type": st.just("library-albums"),
        "attributes": st.dictionaries(
            st.sampled_from(["name", "artistName", "dateAdded", "trackCount", "newThing"]), json_values
        ),
        "relationships": json_values,
        "somethingApple": json_values,
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(albums, max_size=5), max_size=4), st.sampled_from(["jsonl", "json"]))
def test_exporter_writes_what_it_got_whatever_the_fields(pages: list[list[dict[str, Any]]], fmt: str) -> None:
    window = AddedWindow(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), None)
    kept = [[a for a in page if window.keeps(a)] for page in pages]
    text = b"".join(encode_json(kept, fmt)).decode("utf-8")
    flat = [a for page in kept for a in page]
    decoded = [json.loads(line) for line in text.splitlines()] if fmt == "jsonl" else json.loads(text)
    assert decoded == flat
    dropped = sum(len(p) for p in pages) - len(flat)
    assert window.skipped_without_date_added <= dropped


@given(st.lists(st.lists(albums, max_size=6), max_size=5))
def test_stitcher_never_crashes_never_repeats_an_id_and_steps_back_only_without_an_anchor(
    pages: list[list[dict[str, Any]]],
) -> None:
    stitcher = PageStitcher(page_size=100)  # remembers every id of these small inputs as anchors
    out: list[dict[str, Any]] = []
    for index, page in enumerate(pages):
        refetched: list[int] = []

        def refetch(
            offset: int, page: list[dict[str, Any]] = page, refetched: list[int] = refetched
        ) -> dict[str, Any]:
            refetched.append(offset)
            return {"data": page}

        items = [a for a in page if isinstance(a, dict)]
        anchors = [i for i, a in enumerate(items) if a.get("id") is not None and a.get("id") in stitcher.seen]
        # far enough from 0 that three step-backs of a quarter page never reach it
        _, _, fresh = stitcher.stitch({"data": page}, index * 200, refetch)
        if index > 0 and items and stitcher_had_ids(out) and not anchors:
            assert len(refetched) == PAGING_STEP_BACKS, "a page without an anchor is fetched again"
        else:
            assert refetched == []
        if index > 0 and anchors:
            known = {o.get("id") for o in out}
            expected = []
            for item in items[anchors[-1] + 1 :]:
                item_id = item.get("id")
                if item_id is not None:
                    if item_id in known:
                        continue
                    known.add(item_id)
                expected.append(item)
            assert fresh == expected, "the items after the last anchor, each id once"
        out += fresh
    ids = [a["id"] for a in out if "id" in a]
    assert len(ids) == len(set(ids))


def stitcher_had_ids(out: list[dict[str, Any]]) -> bool:
    """The stitcher steps back only once it has seen an id to anchor on."""
    return any(a.get("id") is not None for a in out)
