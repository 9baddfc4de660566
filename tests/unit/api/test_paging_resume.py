"""The paging engine stopped after any page and resumed from its position: the same items, no page twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.paging import ListingPager
from tests.unit.api.test_paging_positions import Listing, with_repeats


def _pager(listing: Listing, identity: str, pages_in_flight: int) -> ListingPager:
    return ListingPager(
        listing, page_size=listing.page_size, pages_in_flight=pages_in_flight, identity=identity
    )


def _stop_and_resume(
    listing: Listing, identity: str, stop_after: int, pages_in_flight: int = 1
) -> tuple[list[str], list[int]]:
    """Page ``stop_after`` pages, keep the position (through JSON), resume in a new pager."""
    first = _pager(listing, identity, pages_in_flight)
    taken: list[Any] = []
    position = None
    for index, page in enumerate(first):
        taken.extend(item["id"] for item in page)
        position = json.loads(json.dumps(first.position()))
        if index + 1 == stop_after:
            break
    assert position is not None
    listing.offsets.clear()
    second = _pager(listing, identity, pages_in_flight)
    second.resume_from(position, taken)
    rest = [item["id"] for page in second for item in page]
    assert second.stats.items == len(taken) + len(rest)
    return taken + rest, list(listing.offsets)


@pytest.mark.parametrize("identity", ["id", "position"])
@pytest.mark.parametrize("pages_in_flight", [1, 8])
@given(stop_after=st.integers(1, 12), length=st.integers(1, 400))
@settings(max_examples=40, deadline=None)
def test_resuming_after_any_page_gives_every_entry_once_and_fetches_no_page_again(
    identity: str, pages_in_flight: int, stop_after: int, length: int
) -> None:
    ids = (
        with_repeats(length, list(range(3, length, 17)))
        if identity == "position"
        else [f"i.{n:05d}" for n in range(length)]
    )
    listing = Listing(ids, page_size=25)
    resumed, offsets = _stop_and_resume(listing, identity, stop_after, pages_in_flight)
    assert resumed == ids
    pages = 1 + max(0, -(-(length - 25) // 24))
    # every page after the stop, once: not the first page, not one yielded before the stop (a
    # pager with pages in flight may ask for one page past the end, as it does uninterrupted)
    needed = [24 * n for n in range(min(stop_after, pages), pages)]
    assert len(offsets) == len(set(offsets))
    assert set(needed) <= set(offsets) and len(offsets) <= len(needed) + 1
    assert all(offset >= 24 * min(stop_after, pages) for offset in offsets)


def test_a_position_after_the_last_page_resumes_to_nothing() -> None:
    listing = Listing([f"i.{n}" for n in range(30)], page_size=25)
    resumed, offsets = _stop_and_resume(listing, "id", stop_after=99)
    assert resumed == listing.ids
    assert offsets == []


def test_an_item_that_moved_behind_the_stop_is_not_yielded_again() -> None:
    ids = [f"i.{n:03d}" for n in range(100)]
    listing = Listing(ids, page_size=25)
    first = _pager(listing, "id", 1)
    pages = iter(first)
    taken = [item["id"] for item in next(pages)] + [item["id"] for item in next(pages)]
    position = first.position()
    # the library changed between the tries: i.010 now sorts later
    listing.ids = [i for i in ids if i != "i.010"]
    listing.ids.insert(80, "i.010")
    second = _pager(listing, "id", 1)
    second.resume_from(position, taken)
    rest = [item["id"] for page in second for item in page]
    assert sorted(taken + rest) == sorted(ids)
    assert len(taken + rest) == len(set(taken + rest))


def test_a_position_of_another_listing_shape_is_refused() -> None:
    listing = Listing([f"i.{n}" for n in range(60)], page_size=25)
    first = _pager(listing, "id", 1)
    next(iter(first))
    other = ListingPager(listing, page_size=20)
    with pytest.raises(ValueError, match="paged another way"):
        other.resume_from(first.position(), [])
