"""Paging the library: every album once, in order, at 100 a page, whatever the quirks."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook


def _ids(albums: list[dict[str, Any]]) -> list[str]:
    return [album["id"] for album in albums]


def test_1050_albums_each_once_in_order_in_at_most_12_requests(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1050)
    albums = list(AppleMusicHook().iter_library_albums(page_size=100))
    assert _ids(albums) == _ids(emulator.library())
    assert len(albums) == 1050
    assert emulator.stats.requests <= 12
    assert emulator.stats.requests == math.ceil((1050 - 1) / (100 - 1))
    assert set(emulator.stats.page_sizes) == {100}


def test_albums_are_returned_exactly_as_the_api_sent_them(start_emulator: Any) -> None:
    emulator = start_emulator(albums=60)
    assert list(AppleMusicHook().iter_library_albums()) == emulator.library()


def test_short_pages_with_next_are_not_the_end(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1050, hidden_every=3)
    albums = list(AppleMusicHook().iter_library_albums(page_size=100))
    assert _ids(albums) == _ids(emulator.library())
    assert len(albums) == 700
    # a page whose one-position overlap is a hidden album is fetched again from further back
    assert emulator.stats.requests <= 2 * 11


def test_include_and_language_are_reapplied_when_next_drops_them(start_emulator: Any) -> None:
    emulator = start_emulator(albums=250)
    albums = list(AppleMusicHook().iter_library_albums(page_size=50, include=["catalog"], language="en-US"))
    assert len(albums) == 250
    assert all(a["relationships"]["catalog"]["data"][0]["type"] == "albums" for a in albums)
    assert dict(emulator.stats.page_sizes) == {50: math.ceil((250 - 1) / (50 - 1))}


def test_every_page_carries_limit_include_extend_and_language_whatever_next_drops(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=450)
    albums = list(AppleMusicHook().iter_library_albums(page_size=100, include="catalog", language="fr-FR"))
    assert [a["id"] for a in albums] == _ids(emulator.library())
    assert all("catalog" in a["relationships"] for a in albums)
    # the emulator's next links carry only offset: each page's own limit and extend show repair
    assert dict(emulator.stats.page_sizes) == {100: 5}
    assert [extend for _, extend in emulator.stats.library_pages] == ["dateAdded"] * 5


def test_library_changing_while_paging(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1050, change_every=2)
    before = set(_ids(emulator.library()))
    albums = list(AppleMusicHook().iter_library_albums(page_size=100))
    after = set(_ids(emulator.library()))
    got = _ids(albums)
    assert len(got) == len(set(got)), "an album came twice"
    throughout = before & after
    assert throughout <= set(got), "an album present throughout was missed"
    assert set(got) <= before | after
    order = {album_id: index for index, album_id in enumerate(_ids(emulator.library()))}
    positions = [order[i] for i in got if i in throughout]
    assert positions == sorted(positions)


@pytest.mark.parametrize("page_size", [0, 101, "100", None, True, 2.5])
def test_bad_page_size_is_refused_before_any_request(start_emulator: Any, page_size: Any) -> None:
    emulator = start_emulator(albums=10)
    with pytest.raises(AppleMusicConfigError, match="page_size must be an integer from 1 to 100"):
        list(AppleMusicHook().iter_library_albums(page_size=page_size))
    with pytest.raises(AppleMusicConfigError, match="page_size"):
        AppleMusicHook().get_library_albums_page(0, page_size=page_size)
    assert emulator.stats.requests == 0


def test_single_page_carries_meta_total_and_next(start_emulator: Any) -> None:
    start_emulator(albums=250)
    page = AppleMusicHook().get_library_albums_page(100, page_size=100)
    assert page["meta"]["total"] == 250
    assert page["next"] == "/v1/me/library/albums?offset=200"
    assert len(page["data"]) == 100
