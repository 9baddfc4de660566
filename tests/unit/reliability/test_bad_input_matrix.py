"""Bad input, property-based: page bodies with missing or extra fields, in the exporter and the stitcher."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.paging import PAGING_STEP_BACKS, PageStitcher
from airflow_provider_applemusic.api.windows import AddedWindow
from airflow_provider_applemusic.files.formats import encode_json

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


def stitcher_had_ids(out: list[dict[str, Any]]) -> bool:
    """The stitcher steps back only once it has seen an id to anchor on."""
    return any(a.get("id") is not None for a in out)


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
