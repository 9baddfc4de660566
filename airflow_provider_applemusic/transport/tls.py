"""One TLS context for every async client of the process, built once, off the event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_SSL_CONTEXT: ssl.SSLContext | None = None
_SSL_LOCK = threading.Lock()


def _build_ssl_context() -> ssl.SSLContext:
    global _SSL_CONTEXT
    with _SSL_LOCK:
        if _SSL_CONTEXT is None:
            import httpx

            _SSL_CONTEXT = httpx.create_ssl_context(trust_env=True)
        return _SSL_CONTEXT


async def shared_ssl_context() -> ssl.SSLContext:
    """
    The process's TLS context, built once in a worker thread.

    Loading the CA bundle takes about 20 ms of CPU: once per trigger it would stall the
    triggerer's event loop. ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured.
    """
    if _SSL_CONTEXT is not None:
        return _SSL_CONTEXT
    return await asyncio.to_thread(_build_ssl_context)
