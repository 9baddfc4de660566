"""The unit tier opens no socket: a test that connects or binds anywhere, in any thread, fails."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

#: the socket operations refused while a unit test runs
REFUSED = ("socket.connect", "socket.bind")
#: while a unit test runs: the socket operations it attempted (``None`` between tests)
_ATTEMPTS: dict[str, list[str] | None] = {"current": None}


def _refuse_sockets(event: str, args: Any) -> None:
    attempts = _ATTEMPTS["current"]
    if attempts is not None and event in REFUSED:
        attempts.append(f"{event}{args!r}")
        raise AssertionError(
            f"a unit test opened a socket ({event} {args!r}): it belongs in tests/integration"
        )


sys.addaudithook(_refuse_sockets)


@pytest.fixture(autouse=True)
def no_sockets() -> Iterator[None]:
    """
    Fail a unit test that connects or binds a socket, even in a thread of its own whose error
    the test never sees (subprocesses are their own business: ``tests/unit`` starts no server).
    """
    attempts: list[str] = []
    _ATTEMPTS["current"] = attempts
    try:
        yield
    finally:
        _ATTEMPTS["current"] = None
    assert not attempts, f"a unit test opened a socket: {attempts}"
