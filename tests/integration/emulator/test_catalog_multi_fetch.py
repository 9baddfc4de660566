"""The emulator's catalog multi-fetch (``GET /v1/catalog/{sf}/{type}?ids=``), quirks included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

SIZES = {"albums": 120, "songs": 400, "seed": 5}


def _song_ids(emulator: AppleMusicEmulator, count: int) -> list[str]:
    ids = emulator.catalog_ids("songs", in_library=True) + emulator.catalog_ids("songs")
    assert len(ids) >= count
    return ids[:count]


def test_withdrawn_ids_are_left_out_of_data_and_the_rest_come_in_the_order_asked(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    withdrawn = emulator.withdrawn_ids("songs")
    assert withdrawn, "the emulator's defaults withdraw some catalog songs the library points at"
    known = _song_ids(emulator, 5)
    asked = [known[0], withdrawn[0], *reversed(known[1:])]
    answer = support.get(emulator, "/v1/catalog/us/songs", ids=",".join(asked))
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert [r["id"] for r in data] == [known[0], *reversed(known[1:])]
    attributes = data[0]["attributes"]
    assert {"isrc", "audioTraits", "durationInMillis", "url"} <= set(attributes)
    assert support.get(emulator, f"/v1/catalog/us/songs/{withdrawn[0]}").status_code == 404


def test_catalog_albums_carry_label_and_upc(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    ids = emulator.catalog_ids("albums", in_library=True)[:3]
    data = support.get(emulator, "/v1/catalog/us/albums", ids=",".join(ids)).json()["data"]
    assert [r["id"] for r in data] == ids
    assert all(r["attributes"]["recordLabel"] and r["attributes"]["upc"] for r in data)


def test_with_include_more_than_100_ids_answer_504_and_more_than_150_every_time(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SIZES)
    ids = _song_ids(emulator, 300)
    plain = support.get(emulator, "/v1/catalog/us/songs", ids=",".join(ids))
    assert plain.status_code == 200 and len(plain.json()["data"]) == 300
    hundred = support.get(emulator, "/v1/catalog/us/songs", ids=",".join(ids[:100]), include="albums")
    assert hundred.status_code == 200
    for count in (200, 151):
        for _ in range(3):
            answer = support.get(
                emulator, "/v1/catalog/us/songs", ids=",".join(ids[:count]), include="albums"
            )
            assert answer.status_code == 504
            assert answer.headers["Content-Type"].startswith("text/html")
    # 101 to 150 ids work on a retry
    first = support.get(emulator, "/v1/catalog/us/songs", ids=",".join(ids[:150]), include="albums")
    again = support.get(emulator, "/v1/catalog/us/songs", ids=",".join(ids[:150]), include="albums")
    assert (first.status_code, again.status_code) == (504, 200)
    assert len(again.json()["data"]) == 150
