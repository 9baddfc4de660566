"""Many users behind one developer key: own tokens and libraries, one rate limit for the key."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.emulator.accounts import user_seed
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

#: the emulator the module's tests share (``start_emulator(shared=True, ...)``)
SHARED: dict[str, Any] = {"albums": 60, "seed": 5, "users": 3}


def _albums(emulator: AppleMusicEmulator, user_token: str, **params: Any) -> requests.Response:
    return support.get(
        emulator,
        "/v1/me/library/albums",
        user_token=user_token,
        **{"limit": 100, "extend": "dateAdded", **params},
    )


def test_each_user_token_reads_that_users_own_library(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    tokens = [emulator.user_token_of(user) for user in range(3)]
    assert len(set(tokens)) == 3
    assert tokens[0] == emulator.user_token
    seen = []
    for user, token in enumerate(tokens):
        body = _albums(emulator, token).json()
        assert body["data"] == emulator.library(user=user)
        assert body["meta"]["total"] == 60
        seen.append({album["id"] for album in body["data"]})
    assert not seen[0] & seen[1] and not seen[1] & seen[2] and not seen[0] & seen[2]


def test_user_zero_is_the_single_user_emulator() -> None:
    with (
        AppleMusicEmulator(albums=40, seed=5) as single,
        AppleMusicEmulator(albums=40, seed=5, users=2) as many,
    ):
        assert many.user_token == single.user_token
        assert many.library() == single.library()
        assert many.connection_dict() == {**single.connection_dict(), "host": many.url}
        assert many.library_items("library-songs") == single.library_items("library-songs")
        assert user_seed(5, 0) == 5


def test_connection_dicts_share_the_key_and_differ_in_the_user_token(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    first, second = emulator.connection_dict(1), emulator.connection_dict(2)
    assert first["extra"]["music_user_token"] == emulator.user_token_of(1)
    assert second["extra"]["music_user_token"] == emulator.user_token_of(2)
    for field in ("host", "login", "password"):
        assert first[field] == second[field]
    assert first["extra"]["key_id"] == second["extra"]["key_id"]
    assert json.loads(emulator.connection_json(2)) == second


def test_an_unknown_user_token_is_refused(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    response = _albums(emulator, "emu.not-a-user")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "40300"


def test_adds_reach_only_the_users_library() -> None:
    with AppleMusicEmulator(albums=10, seed=9, users=2, add_delay=0) as emulator:
        catalog_id = emulator.catalog_ids("albums", user=1)[0]
        response = support.post(
            emulator,
            "/v1/me/library",
            user_token=emulator.user_token_of(1),
            params={"ids[albums]": catalog_id},
        )
        assert response.status_code == 202
        assert len(emulator.library(user=1)) == 11
        assert len(emulator.library(user=0)) == 10
        assert catalog_id in emulator.catalog_ids("albums", in_library=True, user=1)


def test_users_out_of_range_are_refused(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(shared=True, **SHARED)
    with pytest.raises(ValueError, match="user must be an integer from 0 to 2"):
        emulator.user_token_of(3)
    with pytest.raises(ValueError, match="users must be an integer of at least 1"):
        AppleMusicEmulator(albums=1, users=0)


def test_the_rate_limit_is_one_for_the_key_across_users() -> None:
    with AppleMusicEmulator(albums=5, users=4, rate_limit=6) as emulator:
        token = support.developer_token(emulator)

        def ask(user: int) -> requests.Response:
            return support.get(
                emulator, "/v1/me/library/albums", token=token, user_token=emulator.user_token_of(user)
            )

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(ask, [user % 4 for user in range(24)]))
        elapsed = time.monotonic() - started
        accepted = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 429]
        assert len(accepted) + len(refused) == 24
        # one window of 6 a second for the key: no user has a limit of its own
        assert 6 <= len(accepted) <= 6 * (int(elapsed) + 1)
        assert refused and all("Retry-After" not in r.headers for r in refused)
        assert refused[0].json()["errors"][0]["status"] == "429"
        assert sum(emulator.stats.users.values()) == 24
        assert set(emulator.stats.users) == {0, 1, 2, 3}
        assert emulator.stats.first_request_at is not None
        assert emulator.stats.last_response_at is not None
        assert emulator.stats.last_response_at >= emulator.stats.first_request_at


def test_cli_writes_every_users_connection(tmp_path: Any) -> None:
    connections = tmp_path / "connections.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_applemusic.emulator",
            "--port",
            "0",
            "--albums",
            "3",
            "--users",
            "3",
            "--connections-file",
            str(connections),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not connections.exists() or not connections.stat().st_size:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.1)
        found = json.loads(connections.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert sorted(found) == ["apple_music_user_0", "apple_music_user_1", "apple_music_user_2"]
    tokens = {conn["extra"]["music_user_token"] for conn in found.values()}
    assert len(tokens) == 3
    assert len({conn["extra"]["key_id"] for conn in found.values()}) == 1
