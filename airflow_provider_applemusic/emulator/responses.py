"""The emulator's answers: a response to write, and the service's JSON error and HTML error pages."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
#: the size an HTML error page is padded to, like the service's gateway pages
HTML_ERROR_BYTES = 2048
_HTML_MESSAGES = {
    500: "The server encountered an internal error.",
    503: "The service is temporarily unavailable.",
    504: "The server didn't respond in time.",
}


@dataclass
class Response:
    """
    An answer: ``status``, ``body`` and ``headers`` (``Content-Type`` JSON unless given), or how
    the wire misbehaves instead: ``drop`` (close without an answer), ``truncate`` (half the
    body, then close); ``delay``: seconds to wait before answering.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate: bool = False
    delay: float = 0.0


def error(status: int, title: str, detail: str, code: str, parameter: str | None = None) -> Response:
    """The service's JSON error: ``{"errors": [{id, title, detail, status, code, source?}]}``."""
    entry: dict[str, Any] = {
        "id": str(uuid.uuid4()).upper(),
        "title": title,
        "detail": detail,
        "status": str(status),
        "code": code,
    }
    if parameter:
        entry["source"] = {"parameter": parameter}
    return Response(status, json.dumps({"errors": [entry]}).encode())


def not_found(detail: str = "Resource Not Found") -> Response:
    """404 code 40400, as for an unknown resource, an empty listing or a page past its end."""
    return error(404, "Resource Not Found", detail, "40400")


def json_response(status: int, payload: Any) -> Response:
    """A JSON answer (UTF-8, non-ASCII kept)."""
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def html_error(status: int) -> Response:
    """A 5xx answered with an HTML page (``text/html``, a correlation key, about 2 KB), not JSON."""
    reason = REASONS.get(status, "Error")
    head = (
        f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body>"
        f"<h1>{reason}</h1><p>{_HTML_MESSAGES.get(status, 'Something went wrong.')}</p>"
        f"<p>Correlation Key: {uuid.uuid4().hex.upper()}</p>"
    )
    tail = "</body></html>"
    padding = max(0, HTML_ERROR_BYTES - len(head) - len(tail) - len("<!--  -->"))
    body = f"{head}<!-- {'.' * padding} -->{tail}"
    return Response(status, body.encode("ascii"), {"Content-Type": "text/html; charset=UTF-8"})
