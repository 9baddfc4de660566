"""
HTTP/1.1 framing over asyncio for the emulator: read requests, write responses, misbehave.

:class:`LoopServer` serves a loopback port from an event loop in a background thread; each
connection reads requests (head, then a body by ``Content-Length`` or chunked, at most
:data:`MAX_BODY_BYTES`), hands each to the ``respond`` coroutine it was given and writes the
answer, or drops the connection (``Response.drop``) or writes half the body and closes
(``Response.truncate``). What to answer is decided above: the wire knows no path.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_applemusic.emulator.responses import REASONS, Response, error

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

#: request bodies larger than this answer 413
MAX_BODY_BYTES = 1 << 20
_READ_ERRORS = (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError)


@dataclass
class Request:
    """One request as read: method, target, headers (names lower case), body; path and query parsed."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    path: str = field(init=False)
    #: the query parameters (blank values kept; a repeated name: its last value)
    query: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))


def head(status: int, headers: dict[str, str], length: int) -> bytes:
    """A response's status line and headers (JSON unless ``Content-Type`` given), blank line included."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    merged = {"Content-Type": "application/json;charset=utf-8", **headers}
    merged["Content-Length"] = str(length)
    lines += [f"{name}: {value}" for name, value in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | Response:
    """
    The request body, by ``Content-Length`` or chunked; a 400 (bad framing) or 413 (over
    :data:`MAX_BODY_BYTES`) response instead when it cannot or should not be read.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                length = int(line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                return error(400, "Bad Request", "Malformed chunked body.", "40000")
            size += length
            if length < 0 or size > MAX_BODY_BYTES:
                return error(413, "Payload Too Large", "Request body too large.", "41300")
            if length == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(length))
            await reader.readexactly(2)
    raw = headers.get("content-length") or "0"
    if not raw.isdigit():
        return error(400, "Bad Request", "Invalid Content-Length.", "40000")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        return error(413, "Payload Too Large", "Request body too large.", "41300")
    return await reader.readexactly(length) if length else b""


async def read_request(reader: asyncio.StreamReader) -> Request | Response | None:
    """The next request; a 400 or 413 when its body cannot be read; None: the connection ended."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except _READ_ERRORS:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    try:
        body = await read_body(reader, headers)
    except _READ_ERRORS:
        return None
    return body if isinstance(body, Response) else Request(method, target, headers, body)


async def write_response(writer: asyncio.StreamWriter, response: Response) -> bool:
    """Write the answer, or misbehave as it says; whether the connection can take another request."""
    if response.drop:
        writer.transport.abort()
        return False
    body = response.body
    if response.truncate:
        writer.write(head(response.status, response.headers, len(body)) + body[: max(1, len(body) // 2)])
        await writer.drain()
        writer.transport.abort()
        return False
    writer.write(head(response.status, response.headers, len(body)) + body)
    await writer.drain()
    return True


class LoopServer:
    """Serves HTTP/1.1 on one port from an event loop in a background thread."""

    def __init__(self, respond: Callable[[Request], Awaitable[Response]]) -> None:
        self._respond = respond
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    def start(self, host: str, port: int) -> int:
        """Start serving in a background thread; returns the port bound, once it is."""
        ready = threading.Event()
        failure: list[BaseException] = []
        bound: list[int] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve_connection, host, port, limit=1 << 20, backlog=1024)
                )
                bound.append(self._server.sockets[0].getsockname()[1])
            except BaseException as err:  # noqa: BLE001 - handed to the starting thread
                failure.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="apple-music-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return bound[0]

    def stop(self) -> None:
        """Stop serving and close every connection (nothing to do when not serving)."""
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        self._loop = None
        self._thread = None

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    return
                if isinstance(request, Response):  # framing unknown: answer, then close
                    writer.write(head(request.status, {}, len(request.body)) + request.body)
                    await writer.drain()
                    return
                if not await write_response(writer, await self._respond(request)):
                    return
                if request.headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(writer)
            writer.transport.abort()
