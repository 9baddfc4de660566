"""The paging engine on positional listings (a playlist's tracks): every entry, repeats kept, in order."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_applemusic.api.paging import (
    ListingPager,
    PageStitcher,
    PositionalStitcher,
    make_stitcher,
)


class Listing:
    """A listing served by offset like the service: ``next`` while more follow, hidden entries left out."""

    def __init__(self, ids: list[str], page_size: int, hidden: frozenset[int] = frozenset()) -> None:
        self.ids = ids
        self.page_size = page_size
        self.hidden = hidden
        self.offsets: list[int] = []

    def __call__(self, offset: int) -> dict[str, Any]:
        self.offsets.append(offset)
        window = range(offset, min(offset + self.page_size, len(self.ids)))
        page: dict[str, Any] = {
            "data": [{"id": self.ids[i], "type": "library-songs"} for i in window if i not in self.hidden],
            "meta": {"total": len(self.ids)},
        }
        if offset + self.page_size < len(self.ids):
            page["next"] = f"/v1/me/library/playlists/p.x/tracks?offset={offset + self.page_size}"
        return page

    def visible(self) -> list[str]:
        return [song for position, song in enumerate(self.ids) if position not in self.hidden]


def with_repeats(length: int, repeats_at: list[int], seed: int = 1) -> list[str]:
    """``length`` entries, each a new song but those at ``repeats_at``, which repeat an earlier one."""
    rng = random.Random(seed)
    ids: list[str] = []
    for position in range(length):
        if position in repeats_at and ids:
            ids.append(rng.choice(ids))
        else:
            ids.append(f"i.{position:05d}")
    return ids


def page_through(listing: Listing, pages_in_flight: int = 1) -> list[str]:
    pager = ListingPager(
        listing, page_size=listing.page_size, pages_in_flight=pages_in_flight, identity="position"
    )
    return [entry["id"] for page in pager for entry in page]


@pytest.mark.parametrize("pages_in_flight", [1, 4])
@pytest.mark.parametrize("length", [1, 99, 100, 101, 218, 250])
def test_a_playlist_that_repeats_songs_around_page_boundaries_comes_whole(
    length: int, pages_in_flight: int
) -> None:
    # repeats at and around the overlap positions (99, 198) and page starts (100, 200)
    ids = with_repeats(length, [1, 2, 97, 98, 99, 100, 101, 150, 197, 198, 199, 200, 201, 249])
    listing = Listing(ids, page_size=100)
    assert page_through(listing, pages_in_flight) == ids


def test_the_issue_playlist_of_218_tracks_with_9_songs_twice_is_not_cut_to_111() -> None:
    ids = [f"i.{n:03d}" for n in range(209)]
    for position, song in zip([20, 60, 99, 105, 130, 150, 175, 190, 210], range(9), strict=True):
        ids.insert(position, ids[song * 7])
    listing = Listing(ids, page_size=100)
    assert len(ids) == 218
    assert page_through(listing) == ids


def test_a_playlist_of_one_song_many_times_keeps_every_entry() -> None:
    ids = ["i.same"] * 250
    listing = Listing(ids, page_size=100)
    assert page_through(listing, pages_in_flight=4) == ids
    # equal entries everywhere: each overlap checks out where it stands, no page fetched twice
    assert sorted(listing.offsets) == [0, 99, 198]


def test_a_positional_overlap_that_checks_out_costs_no_extra_request() -> None:
    listing = Listing(with_repeats(500, [99, 198, 297]), page_size=100)
    page_through(listing)
    assert listing.offsets == [0, 99, 198, 297, 396, 495]


def test_hidden_entries_leave_short_pages_and_no_entry_is_lost_or_doubled() -> None:
    ids = with_repeats(320, [5, 99, 100, 150, 199, 200, 260])
    hidden = frozenset({10, 99, 150, 198, 297})
    listing = Listing(ids, page_size=100, hidden=hidden)
    assert page_through(listing) == listing.visible()


def test_an_entry_inserted_while_paging_is_caught_by_the_sequence_check() -> None:
    ids = with_repeats(300, [50, 120, 220])
    listing = Listing(list(ids), page_size=100)
    inserted = False

    def fetch(offset: int) -> dict[str, Any]:
        nonlocal inserted
        if offset >= 99 and not inserted:  # a song is added at the top after the first page
            listing.ids.insert(0, "i.new")
            inserted = True
        return listing(offset)

    pager = ListingPager(fetch, page_size=100, identity="position")
    got = [entry["id"] for page in pager for entry in page]
    # the entries present throughout, each once and in order (the new one came before the first page read)
    assert got == ids


def test_an_entry_removed_while_paging_is_caught_by_the_sequence_check() -> None:
    ids = with_repeats(300, [50, 120, 220])
    listing = Listing(list(ids), page_size=100)
    removed = False

    def fetch(offset: int) -> dict[str, Any]:
        nonlocal removed
        if offset >= 99 and not removed:
            del listing.ids[3]
            removed = True
        return listing(offset)

    pager = ListingPager(fetch, page_size=100, identity="position")
    got = [entry["id"] for page in pager for entry in page]
    assert got == ids[:3] + ids[3:]  # position 3 was already read; nothing after it is lost or doubled
    assert len(got) == 300


def test_a_library_listing_still_yields_an_id_seen_at_a_shifted_offset_once() -> None:
    ids = [f"l.{n:03d}" for n in range(250)]
    listing = Listing(list(ids), page_size=100)
    inserted = False

    def fetch(offset: int) -> dict[str, Any]:
        nonlocal inserted
        if offset >= 99 and not inserted:  # an album filed first: every later offset shifts by one
            listing.ids.insert(0, "l.aaa")
            inserted = True
        return listing(offset)

    pager = ListingPager(fetch, page_size=100, identity="id")
    assert [entry["id"] for page in pager for entry in page] == ids


def test_the_identity_picks_the_stitcher() -> None:
    assert type(make_stitcher("id", 10)) is PageStitcher
    assert type(make_stitcher("position", 10)) is PositionalStitcher


@settings(max_examples=200, deadline=None)
@given(
    songs=st.lists(st.sampled_from([f"i.{n}" for n in range(6)]), min_size=1, max_size=60),
    page_size=st.integers(min_value=2, max_value=12),
    pages_in_flight=st.sampled_from([1, 3]),
)
def test_any_static_playlist_comes_back_entry_for_entry(
    songs: list[str], page_size: int, pages_in_flight: int
) -> None:
    # few distinct songs: repeats everywhere, including in every overlap
    listing = Listing(songs, page_size=page_size)
    assert page_through(listing, pages_in_flight) == songs


@pytest.mark.parametrize(("inline", "page_size"), [(100, 100), (100, 50), (20, 100)])
def test_a_first_page_of_inline_tracks_of_any_length_joins_the_pages_after_it(
    inline: int, page_size: int
) -> None:
    ids = with_repeats(260, [19, 20, 21, 49, 50, 99, 100, 101, 150])
    listing = Listing(ids, page_size=page_size)

    def fetch(offset: int) -> dict[str, Any]:
        if offset:
            return listing(offset)
        # the playlist fetched with include=tracks: the first ``inline`` tracks, then next
        return {"data": [{"id": song} for song in ids[:inline]], "next": f"/tracks?offset={inline}"}

    pager = ListingPager(fetch, page_size=page_size, identity="position")
    assert [entry["id"] for page in pager for entry in page] == ids
