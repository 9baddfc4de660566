"""The emulator's personal ratings (``GET /v1/me/ratings/{kind}``) over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.emulator.kinds import RATING_KINDS
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

LIBRARY_KINDS = ("library-albums", "library-songs", "library-playlists", "library-music-videos")
#: the emulator the module's tests share (``start_emulator(shared=True, ...)``), and others like it
SIZES = {"albums": 60, "songs": 80, "playlists": 24, "music_videos": 30}


def _ids(emulator: AppleMusicEmulator, kind: str) -> list[str]:
    """Every id of ``kind`` the emulator knows: library ids, or catalog ids in and out of the library."""
    if kind in LIBRARY_KINDS:
        return [item["id"] for item in emulator.library_items(kind, extend=())]
    return emulator.catalog_ids(kind, in_library=True) + emulator.catalog_ids(kind)


@pytest.mark.parametrize("kind", RATING_KINDS)
def test_rated_ids_come_back_with_their_value_and_unrated_ids_are_absent(
    start_emulator: Callable[..., AppleMusicEmulator], kind: str
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    ids = _ids(emulator, kind)[:150]
    rated = emulator.ratings(kind)
    wanted = [i for i in ids if i in rated]
    assert wanted and len(wanted) < len(ids), "the seed should rate some ids of each kind, not all"
    answer = support.get(emulator, f"/v1/me/ratings/{kind}", ids=",".join(ids))
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert [r["id"] for r in data] == wanted
    assert all(r["type"] == "ratings" and r["attributes"]["value"] == rated[r["id"]] for r in data)
    assert {r["attributes"]["value"] for r in data} <= {1, -1}


def test_ratings_are_mostly_loves_and_the_same_for_the_same_seed(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    values = list(emulator.ratings("library-songs").values())
    assert values.count(1) > values.count(-1) > 0
    with AppleMusicEmulator(**SIZES) as again:
        assert all(again.ratings(kind) == emulator.ratings(kind) for kind in RATING_KINDS)
    with AppleMusicEmulator(seed=8, **SIZES) as other:
        assert other.ratings("library-songs") != emulator.ratings("library-songs")


def test_no_rated_id_is_200_with_empty_data_and_unknown_ids_are_ignored() -> None:
    with AppleMusicEmulator(albums=10, songs=10) as emu:
        song = emu.library_items("library-songs")[0]["id"]
        emu.rate("library-songs", song, None)
        answer = support.get(emu, "/v1/me/ratings/library-songs", ids=f"{song},i.NoSuchSong")
        assert (answer.status_code, answer.json()) == (200, {"data": []})


def test_a_library_item_shares_its_catalog_items_rating() -> None:
    with AppleMusicEmulator(albums=10, songs=10) as emu:
        song = emu.library_items("library-songs")[0]
        catalog_id = song["attributes"]["playParams"]["catalogId"]
        emu.rate("library-songs", song["id"], -1)
        assert emu.ratings("songs")[catalog_id] == -1
        emu.rate("songs", catalog_id, 1)
        body = support.get(emu, "/v1/me/ratings/library-songs", ids=song["id"]).json()
        assert body["data"][0]["attributes"]["value"] == 1


def test_more_than_200_ids_or_none_answer_400_naming_ids(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    too_many = ",".join(str(1_000_000_000 + n) for n in range(201))
    for ids in (too_many, ""):
        answer = support.get(emulator, "/v1/me/ratings/songs", ids=ids)
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["source"] == {"parameter": "ids"}
    at_most = ",".join(str(1_000_000_000 + n) for n in range(200))
    assert support.get(emulator, "/v1/me/ratings/songs", ids=at_most).status_code == 200


def test_ratings_need_both_tokens_and_a_known_kind(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    song = emulator.library_items("library-songs")[0]["id"]
    assert support.get(emulator, "/v1/me/ratings/library-songs", user_token=None, ids=song).status_code == 403
    requests_no_jwt = support.request(
        emulator,
        "GET",
        "/v1/me/ratings/library-songs",
        authorize=False,
        params={"ids": song},
        headers={"Music-User-Token": emulator.user_token},
    )
    assert requests_no_jwt.status_code == 401
    artists = support.get(emulator, "/v1/me/ratings/library-artists", ids="r.x")
    assert artists.status_code == 400 and artists.json()["errors"][0]["code"] == "40008"  # no ratings


def test_each_user_has_ratings_of_their_own() -> None:
    with AppleMusicEmulator(albums=10, songs=40, users=2) as emu:
        song = emu.library_items("library-songs", user=1)[0]["id"]
        emu.rate("library-songs", song, -1, user=1)
        body = support.get(
            emu, "/v1/me/ratings/library-songs", user_token=emu.user_token_of(1), ids=song
        ).json()
        assert body["data"][0]["attributes"]["value"] == -1
        assert emu.ratings("library-songs", user=1)[song] == -1
        assert song not in emu.ratings("library-songs", user=0)


def test_rate_refuses_unknown_kinds_ids_and_values(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    song = emulator.library_items("library-songs")[0]["id"]
    with pytest.raises(ValueError, match="kind must be one of"):
        emulator.rate("library-artists", "r.x", 1)
    with pytest.raises(ValueError, match="no library-songs"):
        emulator.rate("library-songs", "i.NoSuchSong", 1)
    for value in (0, 2, True):
        with pytest.raises(ValueError, match="value must be 1, -1 or None"):
            emulator.rate("library-songs", song, value)
