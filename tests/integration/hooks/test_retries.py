"""Retries, backoff and error mapping against the emulator's faults, over real sockets."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import (
    AppleMusicRateLimitError,
    AppleMusicRequestError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook


def _ids(albums: list[dict[str, Any]]) -> list[str]:
    return [album["id"] for album in albums]


def test_429_storm_is_ridden_out(start_emulator: Any) -> None:
    emulator = start_emulator(albums=300)
    emulator.inject("429", count=5)
    albums = list(AppleMusicHook().iter_library_albums())
    assert _ids(albums) == _ids(emulator.library())
    assert emulator.stats.statuses[429] == 5


def test_rate_limited_emulator_is_followed_to_the_end(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1000, rate_limit=4)
    hook = AppleMusicHook()
    albums = list(hook.iter_library_albums(page_size=50))
    assert _ids(albums) == _ids(emulator.library())
    assert emulator.stats.statuses[429] > 0
    assert hook.concurrency.stats.throttled == emulator.stats.statuses[429]


def test_upstream_500s_are_retried(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1000, fail_every=3)
    albums = list(AppleMusicHook().iter_library_albums())
    assert _ids(albums) == _ids(emulator.library())
    assert emulator.stats.statuses[500] >= 3


def test_dropped_connections_are_retried(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1000, drop_every=4)
    albums = list(AppleMusicHook().iter_library_albums())
    assert _ids(albums) == _ids(emulator.library())
    assert emulator.stats.dropped >= 2


@pytest.mark.parametrize("fault", ["truncate", "not_json", "503"])
def test_damaged_answers_are_retried(start_emulator: Any, fault: str) -> None:
    emulator = start_emulator(albums=150)
    emulator.inject(fault, count=2)
    assert _ids(list(AppleMusicHook().iter_library_albums())) == _ids(emulator.library())


def test_answer_without_data_is_retried(start_emulator: Any) -> None:
    emulator = start_emulator(albums=150)
    emulator.inject("no_data", count=2)
    assert _ids(list(AppleMusicHook().iter_library_albums())) == _ids(emulator.library())


def test_answers_without_data_again_and_again_are_a_clear_error(start_emulator: Any) -> None:
    emulator = start_emulator(albums=150)
    emulator.inject("no_data", count=100)
    with pytest.raises(AppleMusicRequestError, match="without a 'data' list"):
        list(AppleMusicHook(max_attempts=3).iter_library_albums())
    assert emulator.stats.requests == 3


def test_slow_answer_times_out_and_is_retried(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator(albums=150)
    emulator.inject("slow", count=1)
    hook = AppleMusicHook(timeout_seconds=0.5)
    started = time.monotonic()
    assert _ids(list(hook.iter_library_albums())) == _ids(emulator.library())
    # the slow answer (60 s) was given up on after the timeout and the request sent again
    assert hook.concurrency.stats.retries == 1
    assert emulator.stats.requests == 3
    assert time.monotonic() - started < 30


def test_retry_after_is_honoured(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, retry_after=0.6)
    emulator.inject("429", count=1)
    started = time.monotonic()
    assert AppleMusicHook().get_storefront() == "us"
    assert time.monotonic() - started >= 0.6


def test_exhausted_attempts_raise_rate_limit_error(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    emulator.inject("429", count=100)
    with pytest.raises(AppleMusicRateLimitError, match=r"429 Too Many Requests") as info:
        AppleMusicHook(max_attempts=3).get_storefront()
    assert info.value.status == 429
    assert info.value.path == "/v1/me/storefront"
    assert emulator.stats.requests == 3


def test_retry_budget_in_seconds_bounds_a_permanent_fault(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    emulator.inject("500", count=10_000)
    started = time.monotonic()
    with pytest.raises(AppleMusicRequestError, match="code 50001") as info:
        AppleMusicHook(max_attempts=100, max_retry_seconds=2).get_storefront()
    assert time.monotonic() - started < 10
    assert info.value.code == "50001"
    assert info.value.title == "Upstream Service Error"


def test_refused_user_token_fails_after_exactly_one_request(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    emulator.revoke_user_token()
    with pytest.raises(AppleMusicUserTokenError, match="Music User Token was refused") as info:
        list(AppleMusicHook().iter_library_albums())
    assert emulator.stats.requests == 1
    assert "apple_music_default" in str(info.value)
    assert emulator.user_token not in str(info.value)


def test_other_4xx_carries_apples_error_fields(start_emulator: Any) -> None:
    start_emulator(albums=10)
    with pytest.raises(AppleMusicRequestError) as info:
        AppleMusicHook().request("GET", "/v1/me/library/albums", {"limit": "101"})
    err = info.value
    assert (err.status, err.code, err.title) == (400, "40005", "Invalid Parameter Value")
    assert "parameter limit" in str(err)
    assert err.path == "/v1/me/library/albums"


def test_test_connection_names_the_refused_token(start_emulator: Any, set_connection: Any) -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    emulator = start_emulator(albums=10)
    assert AppleMusicHook().test_connection()[0]
    emulator.revoke_user_token()
    ok, message = AppleMusicHook().test_connection()
    assert not ok
    assert message.startswith("developer token accepted; Music User Token refused (403): mint a new one")
    emulator.revoke_user_token(False)
    fields = emulator.connection_dict()
    fields["password"] = AppleMusicEmulator(seed=123).private_key_pem
    set_connection(**fields)
    ok, message = AppleMusicHook().test_connection()
    assert not ok and message.startswith("developer token refused (401): check the Team ID")


def test_concurrent_callers_never_exceed_the_ceiling(start_emulator: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    emulator = start_emulator(albums=2000, latency_ms=20)
    hook = AppleMusicHook(max_concurrency=3)
    with ThreadPoolExecutor(max_workers=10) as pool:
        pages = list(pool.map(lambda o: hook.get_library_albums_page(o), range(0, 2000, 100)))
    assert sum(len(p["data"]) for p in pages) == 2000
    assert emulator.stats.max_in_flight <= 3
    assert hook.concurrency.stats.max_in_flight == 3


def test_retry_log_line_tells_what_this_attempt_got(start_emulator: Any, capsys: Any) -> None:
    emulator = start_emulator(albums=10)
    emulator.inject("500", count=1)
    AppleMusicHook().get_storefront()
    out = capsys.readouterr().out
    assert "Retrying in" in out
    assert "answered 500 Upstream Service Error" in out
    assert "within the retry budget" not in out
