"""The request budget of a developer key, against the emulator's one rate limit for the key."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook, AppleMusicHook
from airflow_provider_applemusic.transport.budget import (
    BudgetStoreError,
    LocalBudgetStore,
    RedisBudgetStore,
    budget_store,
)
from tests.support import BUDGET, KEY_LIMIT

if TYPE_CHECKING:
    from collections.abc import Iterator

USERS = 3
#: library pages each user's export asks for (albums / page size)
PAGES = 8


def _connect_users(emulator: AppleMusicEmulator, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> list[str]:
    conn_ids = []
    for user in range(emulator.users):
        conn = emulator.connection_dict(user)
        conn["extra"].update(extra)
        conn_id = f"apple_music_user_{user}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        conn_ids.append(conn_id)
    return conn_ids


def _export_all(conn_ids: list[str]) -> list[int]:
    """Page every user's albums at once, one hook (four pages in flight) per user."""

    def export(conn_id: str) -> int:
        hook = AppleMusicHook(conn_id, max_concurrency=4)
        return sum(1 for _ in hook.iter_library("library-albums", page_size=10, pages_in_flight=4))

    with concurrent.futures.ThreadPoolExecutor(len(conn_ids)) as pool:
        return list(pool.map(export, conn_ids))


def test_without_a_budget_users_of_one_key_draw_429s(monkeypatch: pytest.MonkeyPatch) -> None:
    with AppleMusicEmulator(albums=10 * PAGES, users=USERS, rate_limit=KEY_LIMIT) as emulator:
        counts = _export_all(_connect_users(emulator, monkeypatch))
        assert counts == [10 * PAGES] * USERS
        assert emulator.stats.statuses[429] > 0


def test_a_budget_keeps_every_user_of_the_key_under_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    with AppleMusicEmulator(albums=10 * PAGES, users=USERS, rate_limit=KEY_LIMIT) as emulator:
        conn_ids = _connect_users(emulator, monkeypatch, requests_per_second=BUDGET)
        counts = _export_all(conn_ids)
        stats = emulator.stats
        assert counts == [10 * PAGES] * USERS
        assert set(stats.statuses) == {200}
        assert stats.statuses[200] >= USERS * PAGES
        # evenly spaced at the budget's rate: the first to the last request takes (n - 1) / rate
        assert stats.accepted_rate() <= BUDGET * 1.1


def test_the_async_hook_waits_for_the_same_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    with AppleMusicEmulator(albums=5, users=2, rate_limit=KEY_LIMIT) as emulator:
        _connect_users(emulator, monkeypatch, requests_per_second=BUDGET)

        async def both() -> None:
            hooks = [AppleMusicAsyncHook(f"apple_music_user_{user}") for user in range(2)]
            try:
                await asyncio.gather(
                    *(hook.request("GET", "/v1/me/storefront") for hook in hooks for _ in range(8))
                )
            finally:
                for hook in hooks:
                    await hook.aclose()

        asyncio.run(both())
        assert emulator.stats.statuses == {200: 16}


def _connect_keys_of_one_team(
    emulator: AppleMusicEmulator, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> list[str]:
    """Two connections, one per key of the emulator's one team (user 0's library), with ``extra``."""
    conn_ids = []
    for number, conn in enumerate([emulator.connection_dict(), emulator.add_developer_key()]):
        conn["extra"].update(extra)
        conn_id = f"apple_music_key_{number}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        conn_ids.append(conn_id)
    return conn_ids


def test_the_budget_is_named_by_the_team_whatever_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import jwt

    with AppleMusicEmulator(albums=5) as emulator:
        first, second = _connect_keys_of_one_team(emulator, monkeypatch, requests_per_second=BUDGET)
        minted = AppleMusicHook(first)._minter
        assert minted is not None
        token = minted.token()
        pre_minted = emulator.connection_dict()
        pre_minted.update(login="", password="")
        pre_minted["extra"] = {"developer_token": token, "requests_per_second": BUDGET}
        monkeypatch.setenv("AIRFLOW_CONN_APPLE_MUSIC_PRE_MINTED", json.dumps(pre_minted))
        hooks = [AppleMusicHook(conn_id) for conn_id in (first, second, "apple_music_pre_minted")]
        assert hooks[0].settings.key_id != hooks[1].settings.key_id
        keys = {hook.budget.key for hook in hooks if hook.budget is not None}
        team = jwt.decode(token, options={"verify_signature": False})["iss"]
        assert len(keys) == 1 and keys.pop().endswith(f":team.{team}")
        assert emulator.stats.requests == 0


def test_two_keys_of_one_team_share_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    with AppleMusicEmulator(albums=10 * PAGES, rate_limit=KEY_LIMIT) as emulator:
        conn_ids = _connect_keys_of_one_team(emulator, monkeypatch, requests_per_second=BUDGET)
        counts = _export_all(conn_ids)
        assert counts == [10 * PAGES] * 2
        # the service's limit is the team's: a budget per key would draw 429s here
        assert set(emulator.stats.statuses) == {200}
        assert sum(emulator.stats.throttled_by_team.values()) == 0


def test_a_budget_store_that_cannot_be_reached_fails_the_request_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("redis")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with AppleMusicEmulator(albums=5) as emulator:
        conn = emulator.connection_dict()
        conn["extra"].update(
            requests_per_second=5, budget_store=f"redis://127.0.0.1:{port}/0", max_retry_seconds=1
        )
        monkeypatch.setenv("AIRFLOW_CONN_APPLE_MUSIC_DEFAULT", json.dumps(conn))
        with pytest.raises(BudgetStoreError, match="extra 'budget_store'") as caught:
            AppleMusicHook().get_storefront()
        assert str(port) not in str(caught.value)
        assert emulator.stats.requests == 0


# -- the shared store (Redis) ----------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path: Any) -> Iterator[str]:
    """A redis-server of the test's own (where Redis and its client are installed: make scale-out)."""
    pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make scale-out installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)


_CHILD = """
import json, os, sys
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
counts = []
for conn_id in sys.argv[1:]:
    hook = AppleMusicHook(conn_id, max_concurrency=4)
    counts.append(sum(1 for _ in hook.iter_library("library-albums", page_size=10, pages_in_flight=4)))
print(json.dumps(counts))
"""


def test_a_shared_budget_holds_processes_of_one_key_to_its_rate(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AppleMusicEmulator(albums=10 * PAGES, users=4, rate_limit=KEY_LIMIT) as emulator:
        conn_ids = _connect_users(emulator, monkeypatch, requests_per_second=BUDGET, budget_store=redis_url)
        children = [
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, *conn_ids[half::2]],
                stdout=subprocess.PIPE,
                env=dict(os.environ),
            )
            for half in (0, 1)
        ]
        outputs = [json.loads(child.communicate(timeout=120)[0]) for child in children]
        assert outputs == [[10 * PAGES] * 2, [10 * PAGES] * 2]
        assert set(emulator.stats.statuses) == {200}


def test_a_shared_budget_holds_processes_on_two_keys_of_one_team_to_its_rate(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AppleMusicEmulator(albums=10 * PAGES, rate_limit=KEY_LIMIT) as emulator:
        conn_ids = _connect_keys_of_one_team(
            emulator, monkeypatch, requests_per_second=BUDGET, budget_store=redis_url
        )
        children = [
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, conn_id], stdout=subprocess.PIPE, env=dict(os.environ)
            )
            for conn_id in conn_ids
        ]
        outputs = [json.loads(child.communicate(timeout=120)[0]) for child in children]
        assert outputs == [[10 * PAGES], [10 * PAGES]]
        assert set(emulator.stats.statuses) == {200}


def test_one_redis_client_per_store_url(redis_url: str) -> None:
    store = budget_store(redis_url)
    assert isinstance(store, RedisBudgetStore)
    assert budget_store(redis_url) is store
    assert isinstance(budget_store(None), LocalBudgetStore)
    waits = [store.reserve("applemusic:test", 0.5) for _ in range(3)]
    assert [round(b - a, 1) for a, b in itertools.pairwise(waits)] == [0.5, 0.5]
