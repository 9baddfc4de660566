"""The shared HTTP policy's pure parts: error mapping, Retry-After, backoff, adaptive limits."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from airflow_provider_applemusic.exceptions import (
    AppleMusicDeveloperTokenError,
    AppleMusicRateLimitError,
    AppleMusicRequestError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.http_policy import (
    CallContext,
    RetryPolicy,
    TransientError,
    _Aimd,
    evaluate_response,
    parse_retry_after,
)

CTX = CallContext("GET", "/v1/me/library/albums", "apple_music_default", can_remint=True)
ERROR = json.dumps(
    {"errors": [{"id": "X", "title": "Upstream Service Error", "status": "500", "code": "50001"}]}
).encode()


def test_success_returns_decoded_body() -> None:
    assert evaluate_response(CTX, 200, {}, b'{"data": []}') == {"data": []}
    assert evaluate_response(CTX, 202, {}, b"", expect_json=False) is None


@pytest.mark.parametrize("body", [b'{"data": [', b"<html>", b"[1, 2]"])
def test_damaged_success_body_is_transient(body: bytes) -> None:
    with pytest.raises(TransientError):
        evaluate_response(CTX, 200, {}, body)


def test_401_asks_for_a_remint_once() -> None:
    with pytest.raises(TransientError) as info:
        evaluate_response(CTX, 401, {}, b"")
    assert info.value.remint and isinstance(info.value.final, AppleMusicDeveloperTokenError)
    no_more = CallContext("GET", "/p", "c", can_remint=False)
    with pytest.raises(AppleMusicDeveloperTokenError):
        evaluate_response(no_more, 401, {}, b"")


def test_403_is_final_and_names_the_connection() -> None:
    with pytest.raises(AppleMusicUserTokenError, match="'apple_music_default'"):
        evaluate_response(CTX, 403, {}, b"")


def test_429_and_5xx_are_transient_with_their_final_errors() -> None:
    with pytest.raises(TransientError) as info:
        evaluate_response(CTX, 429, {"Retry-After": "2"}, b"")
    assert isinstance(info.value.final, AppleMusicRateLimitError) and info.value.retry_after == 2
    with pytest.raises(TransientError) as info:
        evaluate_response(CTX, 500, {}, ERROR)
    assert info.value.final.code == "50001"  # type: ignore[attr-defined]


def test_other_4xx_is_final() -> None:
    with pytest.raises(AppleMusicRequestError, match="404"):
        evaluate_response(CTX, 404, {}, b"")


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(future) or 0) <= 31


def test_backoff_is_full_jitter_below_a_doubling_ceiling() -> None:
    policy = RetryPolicy(base_seconds=0.2, cap_seconds=5)
    for attempt, ceiling in ((1, 0.2), (2, 0.4), (3, 0.8), (10, 5)):
        samples = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling / 2


def test_429_halves_the_limit_and_sets_a_pace_successes_grow_back() -> None:
    aimd = _Aimd(8)
    now = 100.0
    for i in range(10):
        aimd.start(now)
        aimd.finish(200, now, now + i * 0.05)
    aimd.start(now + 0.6)
    aimd.finish(429, now + 0.6, now + 0.6)
    assert aimd.allowed() == 4
    assert aimd.rate == pytest.approx(0.95 * 10)
    aimd.start(now + 0.5)
    aimd.finish(429, now + 0.5, now + 0.7)
    assert aimd.allowed() == 4, "a request started before the decrease does not decrease again"
    for _ in range(200):
        aimd.start(now + 1)
        aimd.finish(200, now + 1, now + 1)
    assert aimd.allowed() == 8
    assert aimd.rate is not None and aimd.rate > 9.5
