"""
How often and how long one request is tried: the retry policy, ``Retry-After``, and tenacity's
arguments, the same for the sync and async sends.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenacity import RetryCallState

#: statuses that are worth another attempt (besides 429 and connection errors)
RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 20.0


@dataclass(frozen=True)
class RetryPolicy:
    """
    How long and how often one request may be tried.

    :param max_attempts: attempts per request, the first one included.
    :param max_retry_seconds: total seconds one request may spend retrying; a wait that would
        end past it is not started.
    :param base_seconds: first backoff ceiling; doubles each attempt (full jitter).
    :param cap_seconds: largest backoff ceiling.
    """

    max_attempts: int = 8
    max_retry_seconds: float = 300.0
    base_seconds: float = BACKOFF_BASE_SECONDS
    cap_seconds: float = BACKOFF_CAP_SECONDS

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff before attempt ``attempt + 1``."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        return random.uniform(0, ceiling)


class TransientError(AppleMusicError):
    """
    An attempt failed in a way another attempt may cure.

    :param final: the error to raise when no attempt is left.
    :param retry_after: seconds the service asked us to wait, if it said so.
    :param remint: the developer token was refused: mint a new one before the next attempt.
    :param reason: what this attempt got, for the retry log line (default: ``final``'s text,
        which may speak of the whole budget).
    """

    def __init__(
        self,
        final: AppleMusicError,
        *,
        retry_after: float | None = None,
        remint: bool = False,
        reason: str | None = None,
    ) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after
        self.remint = remint
        self.reason = reason or str(final)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retrying_kwargs(
    policy: RetryPolicy, on_retry: Callable[[TransientError, float], None] | None = None
) -> dict[str, Any]:
    """
    Keyword arguments for tenacity's ``Retrying`` and ``AsyncRetrying`` implementing ``policy``.

    Attempts stop after ``max_attempts``, or before a wait that would end past
    ``max_retry_seconds``; ``Retry-After`` wins over the jittered backoff. When no attempt is
    left, the last :class:`TransientError`'s ``final`` error is raised.
    """
    from tenacity import (
        retry_if_exception_type,
        stop_after_attempt,
        stop_before_delay,
    )

    def failure(state: RetryCallState) -> BaseException | None:
        return state.outcome.exception() if state.outcome is not None else None

    def wait(state: RetryCallState) -> float:
        err = failure(state)
        if isinstance(err, TransientError) and err.retry_after is not None:
            return err.retry_after
        return policy.backoff(state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        err = failure(state)
        if on_retry is not None and isinstance(err, TransientError):
            on_retry(err, state.upcoming_sleep)

    def give_up(state: RetryCallState) -> Any:
        err = failure(state)
        if isinstance(err, TransientError):
            raise err.final
        if err is not None:
            raise err
        return state.outcome.result() if state.outcome is not None else None

    return {
        "stop": stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_retry_seconds),
        "wait": wait,
        "retry": retry_if_exception_type(TransientError),
        "before_sleep": before_sleep,
        "retry_error_callback": give_up,
    }
