"""The wait conditions of the sensor and its trigger, one per form, without a socket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.triggers.wait_conditions import (
    MISSING_MARK,
    CatalogItems,
    LibraryPlaylist,
    require_one_form,
    sensor_condition,
    trigger_condition,
)


class _Hook:
    """A hook that answers from what it holds and remembers what it was asked."""

    def __init__(self, found: Any = None, playlist: dict[str, Any] | None = None) -> None:
        self.found, self.playlist = found, playlist
        self.asked: list[tuple[Any, ...]] = []

    def find_in_library(self, ids: Any, *, storefront: str | None = None) -> Any:
        self.asked.append(("find_in_library", ids, storefront))
        return self.found

    def get_library_playlist(self, playlist_id: str) -> dict[str, Any] | None:
        self.asked.append(("get_library_playlist", playlist_id))
        return self.playlist


class _AsyncHook(_Hook):
    async def get_library_playlist(self, playlist_id: str) -> dict[str, Any] | None:  # type: ignore[override]
        return super().get_library_playlist(playlist_id)


ITEMS = CatalogItems({"albums": ["1", "2"], "songs": ["3"]})
PLAYLIST = LibraryPlaylist("p.New")


def test_catalog_items_are_missing_until_each_has_a_library_id() -> None:
    assert ITEMS.wanted == {"albums": ["1", "2"], "songs": ["3"]}
    found = {"albums": {"1": "l.a", "2": None}, "songs": {}}
    assert ITEMS.missing(found) == {"albums": ["2"], "songs": ["3"]}
    assert ITEMS.missing({"albums": {"1": "l.a", "2": "l.b"}, "songs": {"3": "i.c"}}) == {}


def test_catalog_items_look_them_up_in_the_storefront_given() -> None:
    hook = _Hook(found={"albums": {"1": "l.a"}})
    assert ITEMS.look(hook, "gb") == {"albums": {"1": "l.a"}}  # type: ignore[arg-type]
    assert hook.asked == [("find_in_library", ITEMS.ids, "gb")]


def test_a_playlist_is_found_once_it_can_be_fetched_and_maps_to_itself() -> None:
    assert PLAYLIST.wanted == {"playlists": ["p.New"]}
    assert PLAYLIST.found(None) == {"playlists": {}}
    assert PLAYLIST.found({"id": "p.New"}) == {"playlists": {"p.New": "p.New"}}
    assert PLAYLIST.missing(PLAYLIST.found(None)) == {"playlists": ["p.New"]}
    assert PLAYLIST.missing(PLAYLIST.found({"id": "p.New"})) == {}


def test_a_playlist_is_fetched_through_the_sync_and_the_async_hook() -> None:
    hook = _Hook(playlist={"id": "p.New"})
    assert PLAYLIST.look(hook, "us") == {"playlists": {"p.New": "p.New"}}  # type: ignore[arg-type]
    assert hook.asked == [("get_library_playlist", "p.New")]
    assert asyncio.run(PLAYLIST.alook(_AsyncHook())) == {"playlists": {}}  # type: ignore[arg-type]


def test_each_form_gives_the_trigger_its_own_argument_only() -> None:
    assert ITEMS.arguments() == {"ids": ITEMS.ids, "playlist_id": None}
    assert PLAYLIST.arguments() == {"ids": None, "playlist_id": "p.New"}


def test_the_timeout_message_names_what_is_missing_and_what_it_may_mean() -> None:
    items = ITEMS.timeout_message(30, {"albums": ["2"]})
    assert items.startswith(f"{MISSING_MARK} 30 s: {{'albums': ['2']}}. ")
    assert items.endswith(
        "unknown catalog ids or unavailable in the storefront (Apple ignores such ids when adding them)."
    )
    playlist = PLAYLIST.timeout_message(1.5, {"playlists": ["p.New"]})
    assert playlist == (
        f"{MISSING_MARK} 1.5 s: {{'playlists': ['p.New']}}. "
        "A new playlist takes a while to appear; an id that never appears may be wrong."
    )


def test_with_nothing_known_missing_the_timeout_names_the_ids_as_given_or_the_playlist() -> None:
    given = '{"albums": ["1"]}'
    assert f"s: {given}. " in CatalogItems({"albums": ["1"]}, given=given).timeout_message(5, None)
    assert "s: {'albums': ['1', '2'], 'songs': ['3']}. " in ITEMS.timeout_message(5, {})
    assert "s: {'playlists': ['p.New']}. " in PLAYLIST.timeout_message(5, None)


@pytest.mark.parametrize(("ids", "playlist_id", "word"), [(None, None, "neither"), ({"a": 1}, "p.x", "both")])
def test_exactly_one_form_is_required(ids: Any, playlist_id: str | None, word: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=rf"give either ids .* or playlist_id .*, not {word}$"):
        require_one_form(ids, playlist_id)


def test_either_form_alone_is_accepted() -> None:
    require_one_form({"albums": ["1"]}, None)
    require_one_form(None, "p.x")


def test_the_sensor_condition_parses_rendered_ids_and_checks_a_playlist_id() -> None:
    condition = sensor_condition('{"albums": ["1", "1", "2"]}', None)
    assert condition == CatalogItems({"albums": ["1", "2"]}, given='{"albums": ["1", "1", "2"]}')
    assert sensor_condition(None, "p.New") == PLAYLIST
    with pytest.raises(AppleMusicConfigError):
        sensor_condition(None, "not a playlist/id")
    with pytest.raises(AppleMusicConfigError, match="not JSON"):
        sensor_condition("albums: 1", None)


def test_the_trigger_condition_normalizes_ids_and_prefers_the_playlist() -> None:
    assert trigger_condition({"albums": "1,2"}, None) == CatalogItems({"albums": ["1", "2"]})
    assert trigger_condition(None, "p.New") == PLAYLIST
    assert trigger_condition({"albums": ["1"]}, "p.New") == PLAYLIST
    with pytest.raises(AppleMusicConfigError, match="must be a mapping"):
        trigger_condition(None, None)
