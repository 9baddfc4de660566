"""The enrichment stage's batching and merging (pure: no requests)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from airflow_provider_applemusic.api.enrichment import (
    MAX_CATALOG_IDS,
    Enricher,
    Lookup,
    attributes_by_id,
    enrich_pages,
    validate_enrich,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError


def song(library_id: str, catalog_id: str | None) -> dict[str, Any]:
    play: dict[str, Any] = {"id": library_id, "kind": "song", "isLibrary": True}
    if catalog_id:
        play["catalogId"] = catalog_id
    return {"id": library_id, "type": "library-songs", "attributes": {"name": library_id, "playParams": play}}


def upload(library_id: str) -> dict[str, Any]:
    """A song the user uploaded (or one removed from the service): no ``playParams`` at all."""
    return {"id": library_id, "type": "library-songs", "attributes": {"name": library_id}}


@pytest.mark.parametrize(
    ("enrich", "resource", "message"),
    [
        (["catalog", "lyrics"], "library-songs", "enrich may hold 'catalog' and 'ratings', got 'lyrics'"),
        ("Catalog", "library-songs", "got 'Catalog'"),
        (42, "library-songs", "enrich must be a list of catalog and ratings, got 42"),
        (["ratings"], "library-artists", "resource 'library-artists': artists have no ratings"),
        (["catalog"], "library-artists", "not possible for resource 'library-artists'"),
    ],
)
def test_bad_enrich_values_are_refused_naming_enrich_and_what_is_allowed(
    enrich: Any, resource: str, message: str
) -> None:
    with pytest.raises(AppleMusicConfigError, match="enrich") as raised:
        validate_enrich(enrich, resource)
    assert message in str(raised.value)


def test_enrich_is_normalised_in_a_fixed_order() -> None:
    assert validate_enrich(None, "library-songs") == ()
    assert validate_enrich([], "library-artists") == ()
    assert validate_enrich("ratings", "library-songs") == ("ratings",)
    assert validate_enrich(["ratings", "catalog", "ratings"], "recently-added") == ("catalog", "ratings")


def test_catalog_ids_are_batched_across_pages_and_merged_back_in_order() -> None:
    enricher = Enricher(("catalog",), catalog_batch=3)
    first = [song("i.1", "101"), upload("i.2"), song("i.3", "103")]
    second = [song("i.4", "104"), song("i.5", "105")]
    assert enricher.add(first) == []
    assert enricher.ready() == []  # i.1 and i.3 still wait for their look-up
    (lookup,) = enricher.add(second)
    assert lookup == Lookup("catalog", "songs", ("101", "103", "104"))
    enricher.answer(lookup, {"101": {"isrc": "A"}, "104": {"isrc": "D"}})  # 103 withdrawn
    assert enricher.ready() == [first]
    assert [(s["catalog"], s["catalog_status"]) for s in first] == [
        ({"isrc": "A"}, "ok"),
        (None, "none"),
        (None, "withdrawn"),
    ]
    assert enricher.ready() == []  # i.5 waits
    (last,) = enricher.flush()
    assert last.ids == ("105",)
    enricher.answer(last, {"105": {"isrc": "E"}})
    assert enricher.ready() == [second]
    stats = enricher.stats
    assert (stats.catalog_ok, stats.catalog_none, stats.catalog_withdrawn) == (3, 1, 1)
    assert stats.catalog_requests == 2


def test_a_repeated_catalog_id_is_asked_once_and_every_repeat_is_kept_and_enriched() -> None:
    enricher = Enricher(("catalog", "ratings"))
    page = [song("i.1", "101"), song("i.2", "102"), song("i.1", "101")]  # a playlist holding i.1 twice
    assert enricher.add(page) == []
    catalog, ratings = enricher.flush()
    assert catalog.ids == ("101", "102") and ratings.ids == ("i.1", "i.2")
    enricher.answer(ratings, {"i.1": 1})
    assert enricher.ready() == []
    enricher.answer(catalog, {"101": {"name": "x"}, "102": {"name": "y"}})
    (out,) = enricher.ready()
    assert out is page and len(out) == 3
    assert [(s["catalog"], s["rating"]) for s in out] == [
        ({"name": "x"}, 1),
        ({"name": "y"}, None),
        ({"name": "x"}, 1),
    ]
    assert (enricher.stats.loved, enricher.stats.unrated, enricher.stats.catalog_ok) == (2, 1, 3)


@pytest.mark.parametrize("ratings_first", [True, False])
def test_the_keys_stand_in_one_order_whichever_answer_comes_first(ratings_first: bool) -> None:
    enricher = Enricher(("catalog", "ratings"))
    page = [song("i.1", "101"), {"id": "i.2", "type": "library-songs", "attributes": {}}]  # i.2: an upload
    enricher.add(page)
    catalog, ratings = enricher.flush()
    answers = [(ratings, {"i.1": -1}), (catalog, {"101": {"isrc": "A"}})]
    for lookup, found in answers if ratings_first else reversed(answers):
        enricher.answer(lookup, found)
    (out,) = enricher.ready()
    assert [list(item)[-3:] for item in out] == [["catalog", "catalog_status", "rating"]] * 2


def test_ratings_by_item_type_unrated_disliked_and_types_without_ratings() -> None:
    enricher = Enricher(("ratings",))
    page = [
        {"id": "1441164426", "type": "songs"},
        {"id": "i.9", "type": "library-songs"},
        {"id": "ra.1", "type": "stations"},
    ]
    enricher.add(page)
    lookups = enricher.flush()
    assert sorted((lk.type, lk.ids) for lk in lookups) == [
        ("library-songs", ("i.9",)),
        ("songs", ("1441164426",)),
    ]
    for lookup in lookups:
        enricher.answer(lookup, {"i.9": -1})
    (out,) = enricher.ready()
    assert [s["rating"] for s in out] == [None, -1, None]
    assert "catalog" not in out[0]
    assert (enricher.stats.disliked, enricher.stats.unrated, enricher.stats.rating_requests) == (1, 2, 2)


def test_batch_sizes_default_to_the_services_limits() -> None:
    enricher = Enricher(("catalog", "ratings"))
    page = [song(f"i.{n}", str(1_000_000_000 + n)) for n in range(250)]
    full = enricher.add(page)
    assert [(lk.kind, len(lk.ids)) for lk in full] == [("catalog", MAX_CATALOG_IDS)] * 2 + [("ratings", 200)]
    rest = enricher.flush()
    assert [(lk.kind, len(lk.ids)) for lk in rest] == [("catalog", 50), ("ratings", 50)]


def test_attributes_by_id_keeps_only_the_ids_asked_for() -> None:
    body = {"data": [{"id": "1", "attributes": {"a": 1}}, {"id": "9", "attributes": {}}, "junk"]}
    assert attributes_by_id(body, ["1", "2"]) == {"1": {"a": 1}}


def test_the_driver_keeps_page_order_when_answers_come_back_out_of_order() -> None:
    pages = [[song(f"i.{p}{n}", f"{p}{n}00") for n in range(3)] for p in range(1, 6)]
    release = {lookup_id: threading.Event() for lookup_id in range(20)}
    calls: list[Lookup] = []
    lock = threading.Lock()

    def fetch(lookup: Lookup) -> dict[str, Any]:
        with lock:
            number = len(calls)
            calls.append(lookup)
        if number == 0:  # the first look-up answers last
            release[0].wait(timeout=10)
        elif number >= 3:
            release[0].set()
        return {cid: {"n": cid} for cid in lookup.ids}

    out = list(enrich_pages(iter(pages), Enricher(("catalog",), catalog_batch=2), fetch, workers=4))
    assert out == pages
    assert all(s["catalog_status"] == "ok" for page in out for s in page)
    assert sum(len(lk.ids) for lk in calls) == 15


def test_the_driver_raises_the_first_failed_look_up() -> None:
    def fetch(lookup: Lookup) -> dict[str, Any]:
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        list(enrich_pages(iter([[song("i.1", "1")]]), Enricher(("catalog",)), fetch, workers=2))


def test_the_driver_takes_no_new_page_while_too_many_wait_for_answers() -> None:
    from airflow_provider_applemusic.api.enrichment import MAX_PAGES_WAITING

    enricher = Enricher(("catalog",), catalog_batch=2)
    pulled: list[int] = []

    def pages() -> Any:
        for number in range(40):
            # whatever the answers' timing, a page is only asked for when few wait
            assert enricher.waiting <= MAX_PAGES_WAITING
            pulled.append(number)
            yield [song(f"i.{number}.{n}", f"{number}{n}") for n in range(2)]

    def slow(lookup: Lookup) -> dict[str, Any]:
        threading.Event().wait(0.005)  # a slow answer (latency), not a condition waited for
        return {cid: {} for cid in lookup.ids}

    out = list(enrich_pages(pages(), enricher, slow, workers=2))
    assert len(out) == len(pulled) == 40
    assert enricher.stats.catalog_ok == 80
