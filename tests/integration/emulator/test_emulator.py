"""The emulator behaves like the service, quirks included (raw HTTP, no hook)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.emulator.collection import sort_key
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

#: the emulator the module's tests share (``start_emulator(shared=True, ...)``)
SHARED: dict[str, Any] = {"albums": 230, "seed": 3}


def test_next_carries_offset_but_not_limit(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    body = support.get(emulator, "/v1/me/library/albums", limit=100, include="catalog", l="en-US").json()
    assert body["next"] == "/v1/me/library/albums?offset=100"
    assert body["meta"]["total"] == 230
    following = support.get(emulator, body["next"]).json()
    assert len(following["data"]) == 25


def test_order_ignores_articles_and_case(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    library = emulator.library()
    keys = [sort_key(a["attributes"]["name"], a["id"]) for a in library]
    assert keys == sorted(keys)
    names = [a["attributes"]["name"] for a in library]
    assert any(n.startswith("The ") for n in names)
    assert any(n[0].islower() for n in names)
    assert sort_key("The Very Best of Tchaikovsky", "x") > sort_key("Ultraviolence", "x")
    assert sort_key("x (Deluxe Edition)", "a") > sort_key("Witness", "a")


def test_optional_attributes_are_sometimes_missing_and_names_unicode(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    attributes = [a["attributes"] for a in emulator.library()]
    assert any("artwork" not in a for a in attributes)
    assert any("dateAdded" not in a for a in attributes)
    assert any(len(a.get("dateAdded", "")) == 10 for a in attributes)
    assert any(not n["name"].isascii() for n in attributes)


@pytest.mark.parametrize(
    ("name", "value"), [("limit", "101"), ("limit", "0"), ("offset", "-1"), ("limit", "x")]
)
def test_bad_paging_parameters_get_apples_400(
    start_emulator: Callable[..., AppleMusicEmulator], name: str, value: str
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    response = support.get(emulator, "/v1/me/library/albums", **{name: value})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["source"]["parameter"] == name and error["code"] == "40005"


@pytest.mark.parametrize(
    "changes",
    [
        {"kid": "WRONGKID00"},
        {"claims": {"iss": "OTHERTEAM0"}},
        {"claims": {"exp": int(time.time()) - 10, "iat": int(time.time()) - 100}},
        {"claims": {"iat": int(time.time()) - 5, "exp": int(time.time()) - 5 + 15_552_001}},
        {"claims": {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}},
    ],
)
def test_bad_developer_tokens_get_401(
    start_emulator: Callable[..., AppleMusicEmulator], changes: dict[str, Any]
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    response = support.get(emulator, "/v1/me/storefront", token=support.developer_token(emulator, **changes))
    assert response.status_code == 401


def test_token_signed_by_another_key_gets_401(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    other = AppleMusicEmulator(seed=1234)
    assert (
        support.get(
            emulator, "/v1/me/storefront", token=support.developer_token(emulator, key=other._private_key)
        ).status_code
        == 401
    )
    assert support.get(emulator, "/v1/me/storefront").status_code == 200


def test_user_token_is_required_for_me_and_relate_library(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    me = support.get(emulator, "/v1/me/storefront", user_token=None)
    assert me.status_code == 403
    catalog_id = emulator.catalog_ids()[0]
    plain = support.get(emulator, "/v1/catalog/us/albums", user_token=None, ids=catalog_id)
    assert plain.status_code == 200
    related = support.get(
        emulator, "/v1/catalog/us/albums", user_token=None, ids=catalog_id, relate="library"
    )
    assert related.status_code == 403


def test_add_answers_202_empty_and_ignores_unknown_ids() -> None:
    with AppleMusicEmulator(albums=5, add_delay=0.3) as emulator:
        album = emulator.catalog_ids()[0]
        response = support.post(emulator, "/v1/me/library", params={"ids[albums]": f"{album},999999999"})
        assert (response.status_code, response.content) == (202, b"")
        assert album not in emulator.library_ids()
        time.sleep(0.35)
        assert album in emulator.library_ids()
        assert "999999999" not in emulator.library_ids()


def test_catalog_multi_fetch_leaves_unknown_ids_out_and_caps_at_300(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    known = emulator.catalog_ids()[:2]
    body = support.get(
        emulator, "/v1/catalog/us/albums", ids=",".join([*known, "123"]), relate="library"
    ).json()
    assert [r["id"] for r in body["data"]] == known
    assert all(r["relationships"]["library"]["data"] == [] for r in body["data"])
    too_many = support.get(emulator, "/v1/catalog/us/albums", ids=",".join(str(n) for n in range(301)))
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["source"]["parameter"] == "ids"


def test_single_album_fetch_has_tracks(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    album = emulator.library()[0]
    body = support.get(emulator, f"/v1/me/library/albums/{album['id']}").json()
    assert len(body["data"][0]["relationships"]["tracks"]["data"]) == album["attributes"]["trackCount"]
    assert support.get(emulator, "/v1/me/library/albums/l.nothere").status_code == 404


def test_restart_keeps_port_and_loses_pending_adds() -> None:
    with AppleMusicEmulator(albums=5, add_delay=0.2) as emulator:
        port = emulator.port
        album = emulator.catalog_ids()[0]
        support.post(emulator, "/v1/me/library", params={"ids[albums]": album})
        emulator.restart()
        assert emulator.port == port
        time.sleep(0.25)
        assert album not in emulator.library_ids()
        assert support.get(emulator, "/v1/me/storefront").status_code == 200


def test_command_line_prints_connection_and_serves(tmp_path: Any) -> None:
    ready = tmp_path / "conn.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_applemusic.emulator",
            "--port",
            "0",
            "--albums",
            "30",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        line = process.stdout.readline()
        assert line.startswith("AIRFLOW_CONN_APPLE_MUSIC_DEFAULT='")
        conn = json.loads(line.split("=", 1)[1].strip().strip("'"))
        assert conn["conn_type"] == "apple_music" and conn["host"].startswith("http://127.0.0.1:")
        assert json.loads(ready.read_text()) == conn
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("apple_music_emulator", [{"albums": 12}], indirect=True)
def test_pytest_plugin_fixture_sets_the_connection(apple_music_emulator: AppleMusicEmulator) -> None:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    assert len(list(AppleMusicHook().iter_library_albums())) == 12
    assert apple_music_emulator.stats.requests == 1


def test_the_stats_control_path_tells_requests_and_the_fetch_span_uncounted(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(albums=150, latency_ms=20)
    before = support.request(emulator, "GET", "/emulator/stats", authorize=False).json()
    assert before == {"requests": 0, "statuses": {}, "span_seconds": None, "max_in_flight": 0}
    for offset in (0, 100):
        assert support.get(emulator, "/v1/me/library/albums", offset=str(offset)).status_code == 200
    after = support.request(emulator, "GET", "/emulator/stats", authorize=False).json()
    assert after["requests"] == 2 == emulator.stats.requests
    assert after["statuses"] == {"200": 2}
    assert [offset for offset, _ in emulator.stats.library_pages] == [0, 100]
    assert after["span_seconds"] >= 0.04  # two answers, each after the 20 ms latency
