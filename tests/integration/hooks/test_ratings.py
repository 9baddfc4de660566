"""AppleMusicHook.get_ratings against the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.api.ratings import RATING_KINDS
from airflow_provider_applemusic.exceptions import AppleMusicConfigError, AppleMusicUserTokenError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

LIBRARY_KINDS = ("library-albums", "library-songs", "library-playlists", "library-music-videos")


def _ids(emulator: Any, kind: str) -> list[str]:
    if kind in LIBRARY_KINDS:
        return [item["id"] for item in emulator.library_items(kind, extend=())]
    return emulator.catalog_ids(kind, in_library=True) + emulator.catalog_ids(kind)


@pytest.mark.parametrize("kind", RATING_KINDS)
def test_every_kind_gives_the_rated_ids_only_in_the_order_given(start_emulator: Any, kind: str) -> None:
    emulator = start_emulator(albums=40, songs=40, playlists=20, music_videos=20)
    ids = list(reversed(_ids(emulator, kind)))
    rated = emulator.ratings(kind)
    got = AppleMusicHook().get_ratings(kind, ids)
    assert got == {i: rated[i] for i in ids if i in rated}
    assert list(got) == [i for i in ids if i in rated]
    assert got and len(got) < len(ids)


def test_ids_are_asked_200_at_a_time(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, songs=450)
    ids = _ids(emulator, "library-songs")
    assert len(ids) == 450
    emulator.reset_stats()
    got = AppleMusicHook().get_ratings("library-songs", ids + ids[:10])  # duplicates asked once
    assert got == emulator.ratings("library-songs")
    assert emulator.stats.paths["/v1/me/ratings/library-songs"] == 3
    assert emulator.stats.statuses == {200: 3}


def test_a_comma_separated_string_and_a_rating_changed_by_the_user(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, songs=10)
    first, second = _ids(emulator, "library-songs")[:2]
    emulator.rate("library-songs", first, -1)
    emulator.rate("library-songs", second, None)
    assert AppleMusicHook().get_ratings("library-songs", f"{first}, {second}") == {first: -1}


def test_no_rated_id_gives_an_empty_dict(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, songs=10)
    unrated = [i for i in _ids(emulator, "songs") if i not in emulator.ratings("songs")][:5]
    assert AppleMusicHook().get_ratings("songs", unrated) == {}
    assert emulator.stats.statuses == {200: 1}


def test_no_ids_sends_nothing(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    assert AppleMusicHook().get_ratings("albums", []) == {}
    assert emulator.stats.requests == 0


@pytest.mark.parametrize(
    ("kind", "ids", "message"),
    [
        ("artists", ["1"], "kind must be one of albums, songs, .*library-music-videos, got 'artists'"),
        ("library-artists", ["r.AbC"], "kind must be one of"),
        (None, ["1"], "kind must be one of"),
        ("songs", ["i.AbC123"], "ids holds malformed id 'i.AbC123' for kind 'songs': songs ids are digits"),
        ("library-songs", ["1440857781"], "ids holds malformed id '1440857781' for kind 'library-songs'"),
        ("library-albums", ["i.AbC"], "library-albums ids are 'l.' then letters or digits"),
        ("playlists", ["p.AbC"], "playlists ids are 'pl.'"),
        ("songs", [None], "ids holds None, which is not a string id"),
        ("songs", 1440857781, "ids must be a list of ids or a comma-separated string, got int"),
        ("songs", {"songs": ["1"]}, "ids must be a list of ids"),
    ],
)
def test_bad_kinds_and_ids_are_refused_before_any_request(
    start_emulator: Any, kind: Any, ids: Any, message: str
) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match=message) as raised:
        AppleMusicHook().get_ratings(kind, ids)
    assert isinstance(raised.value, ValueError)
    assert emulator.stats.requests == 0


@pytest.mark.parametrize(("kind", "ids"), [("artists", ["178834"]), ("library-artists", ["r.AbC123"])])
def test_artists_ratings_are_refused_before_any_request_listing_the_kinds(
    start_emulator: Any, kind: str, ids: list[str]
) -> None:
    emulator = start_emulator(albums=5, artists=5)
    with pytest.raises(AppleMusicConfigError) as raised:
        AppleMusicHook().get_ratings(kind, ids)
    assert str(raised.value) == (
        f"kind must be one of {', '.join(RATING_KINDS)}, got {kind!r}: artists have no ratings in Apple Music"
    )
    assert emulator.stats.requests == 0


def test_a_refused_user_token_is_said_and_not_shown(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, songs=5)
    emulator.revoke_user_token()
    with pytest.raises(AppleMusicUserTokenError) as raised:
        AppleMusicHook().get_ratings("library-songs", _ids(emulator, "library-songs"))
    assert emulator.user_token not in str(raised.value)


def test_429s_and_server_errors_on_a_batch_are_retried(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, songs=300)
    emulator.inject("429", count=2, path_prefix="/v1/me/ratings")
    emulator.inject("500", count=1, path_prefix="/v1/me/ratings")
    got = AppleMusicHook().get_ratings("library-songs", _ids(emulator, "library-songs"))
    assert got == emulator.ratings("library-songs")
    assert emulator.stats.statuses[429] == 2 and emulator.stats.statuses[500] == 1
