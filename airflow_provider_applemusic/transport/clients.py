"""
One ``httpx.AsyncClient`` per event loop and API host, shared by every async hook on that loop.

A triggerer runs all its triggers on one event loop: with a client per hook, 500 deferred
sensors held 500 TCP connections. Here every :class:`AppleMusicAsyncHook` of a loop that talks
to the same base URL with the same TLS settings borrows one client whose pool holds at most
:data:`MAX_CONNECTIONS` connections; requests beyond that wait for a free connection.

Lifetime: a client is opened by the first hook that needs it and closed when the last hook
holding it releases it (``aclose``), so no request of another hook is ever in flight on a client
being closed. A hook that is never closed keeps its client open until its loop is garbage
collected (clients are kept per loop in a ``WeakKeyDictionary``). Cancelling a request closes at
most the one connection that carried it (httpcore's pool), never the client.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_applemusic.transport.tls import shared_ssl_context

if TYPE_CHECKING:
    import ssl

    import httpx

#: the most connections one loop opens to one API host
MAX_CONNECTIONS = 16
#: seconds an idle connection is kept for the next request (httpx's default)
KEEPALIVE_SECONDS = 5.0

_ClientKey = tuple[str, "ssl.SSLContext"]


@dataclass(eq=False)
class _Shared:
    client: httpx.AsyncClient
    users: int = 0


_LOCK = threading.Lock()
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_ClientKey, _Shared]] = (
    weakref.WeakKeyDictionary()
)


def _new_client(base_url: str, verify: ssl.SSLContext) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Accept": "application/json"},
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_SECONDS,
        ),
        verify=verify,
    )


async def acquire_client(base_url: str) -> httpx.AsyncClient:
    """
    The running loop's client for ``base_url``, opened when none is; the caller holds it until
    :func:`release_client`. Timeouts are per request (connections may differ in theirs).
    """
    verify = await shared_ssl_context()
    loop = asyncio.get_running_loop()
    with _LOCK:
        clients = _CLIENTS.setdefault(loop, {})
        shared = clients.get((base_url, verify))
        if shared is None:
            shared = clients[(base_url, verify)] = _Shared(_new_client(base_url, verify))
        shared.users += 1
        return shared.client


async def release_client(client: httpx.AsyncClient) -> None:
    """Give back a client from :func:`acquire_client`; the last holder closes it."""
    loop = asyncio.get_running_loop()
    with _LOCK:
        clients = _CLIENTS.get(loop, {})
        key = next((k for k, shared in clients.items() if shared.client is client), None)
        if key is None:
            last = True  # not shared (or already dropped): nobody else holds it
        else:
            clients[key].users -= 1
            last = clients[key].users <= 0
            if last:
                del clients[key]
    if last:
        await client.aclose()


def open_clients() -> int:
    """How many shared clients the running loop holds (for tests and benchmarks)."""
    with _LOCK:
        return len(_CLIENTS.get(asyncio.get_running_loop(), {}))
