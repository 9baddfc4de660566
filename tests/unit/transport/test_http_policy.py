"""The shared HTTP policy's pure parts: error mapping, Retry-After, backoff, adaptive limits."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicRateLimitError,
    AppleMusicRequestError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.transport.concurrency import _Aimd
from airflow_provider_applemusic.transport.errors import CallContext, evaluate_response
from airflow_provider_applemusic.transport.retries import RetryPolicy, TransientError, parse_retry_after

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


GATEWAY_PAGE = (
    b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'>\n<title>504 Gateway\n Timeout</title></head>"
    b"<body><h1>Gateway Timeout</h1><p>Correlation Key: SECRETCORRELATION42</p>"
    + b"x" * 2000
    + b"</body></html>"
)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_an_html_5xx_page_is_retried_and_named_by_its_status_and_title_never_the_page(status: int) -> None:
    with pytest.raises(TransientError) as caught:
        evaluate_response(CTX, status, {"Content-Type": "text/html"}, GATEWAY_PAGE)
    final = str(caught.value.final)
    assert (
        f"failed with {status} 504 Gateway Timeout" in final
        if status != 504
        else "failed with 504 Gateway Timeout;" in final
    )
    assert caught.value.final.title == "504 Gateway Timeout"
    for leak in ("<", "Correlation", "SECRETCORRELATION42", "xxxx"):
        assert leak not in final
        assert leak not in caught.value.reason


def test_an_html_page_on_a_status_that_is_not_retried_gives_its_title_only() -> None:
    with pytest.raises(AppleMusicRequestError) as caught:
        evaluate_response(
            CTX, 405, {}, b"<html><title>405 Not Allowed</title><body>" + b"y" * 500 + b"</body></html>"
        )
    assert str(caught.value) == "Apple Music GET /v1/me/library/albums failed with 405 Not Allowed"


def test_a_400_naming_the_language_parameter_is_a_config_error_naming_language() -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "id": "X",
                    "title": "Invalid Parameter Value",
                    "status": "400",
                    "code": "40005",
                    "source": {"parameter": "l"},
                }
            ]
        }
    ).encode()
    with pytest.raises(AppleMusicConfigError, match=r"^language was refused .*40005.*such as 'en-US'"):
        evaluate_response(CTX, 400, {}, body)


def test_a_400_naming_another_parameter_stays_a_request_error() -> None:
    body = json.dumps(
        {"errors": [{"title": "Invalid Parameter Value", "code": "40005", "source": {"parameter": "limit"}}]}
    )
    with pytest.raises(AppleMusicRequestError, match="parameter limit"):
        evaluate_response(CTX, 400, {}, body.encode())
