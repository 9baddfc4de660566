"""
The emulator's own control paths (not the API's, no tokens, not counted): a running emulator
changed and read from another process.

``GET /emulator/stats``, ``POST /emulator/changes`` (library changes) and ``POST /emulator/play``
(plays and listening sessions); the command line's ``apply-changes`` and ``play`` send them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.responses import Response, error, json_response
from airflow_provider_applemusic.emulator.writes import json_body

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_applemusic.emulator.server import AppleMusicEmulator
    from airflow_provider_applemusic.emulator.wire import Request

CONTROL_CHANGES_PATH = "/emulator/changes"
CONTROL_STATS_PATH = "/emulator/stats"
CONTROL_PLAY_PATH = "/emulator/play"


def _post_payload(request: Request, fields: set[str]) -> dict[str, Any] | Response:
    """The JSON object a control POST carries (fields checked), or the error answer."""
    if request.method != "POST":
        return error(405, "Method Not Allowed", "Use POST.", "40500")
    payload = json_body(request.body or b"{}")
    if isinstance(payload, Response):
        return payload
    unknown = set(payload) - fields
    if unknown:
        return error(400, "Bad Request", f"Unknown fields: {', '.join(sorted(unknown))}.", "40000")
    return payload


def control_stats(emulator: AppleMusicEmulator, request: Request) -> Response:
    """
    ``GET /emulator/stats``: requests seen, their statuses, and the fetch span (seconds from the
    first request counted to the last answer), for a client in another process.
    """
    stats = emulator.stats
    span = (
        stats.last_response_at - stats.first_request_at
        if stats.first_request_at is not None and stats.last_response_at is not None
        else None
    )
    return json_response(
        200,
        {
            "requests": stats.requests,
            "statuses": {str(k): v for k, v in stats.statuses.items()},
            "span_seconds": span,
            "max_in_flight": stats.max_in_flight,
        },
    )


def control_changes(emulator: AppleMusicEmulator, request: Request) -> Response:
    """``POST /emulator/changes`` ``{"add", "remove", "resource", "user"}``: ``apply_changes``."""
    payload = _post_payload(request, {"add", "remove", "resource", "user"})
    if isinstance(payload, Response):
        return payload
    try:
        added, removed = emulator.apply_changes(
            payload.get("add", 0),
            payload.get("remove", 0),
            payload.get("resource", "library-albums"),
            payload.get("user", 0),
        )
    except (ValueError, TypeError) as err:
        return error(400, "Bad Request", str(err), "40000")
    return json_response(200, {"added": added, "removed": removed})


def _moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 instant (naive: UTC) or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"at must be an ISO 8601 instant, got {value!r}")
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def control_play(emulator: AppleMusicEmulator, request: Request) -> Response:
    """
    ``POST /emulator/play``: ``{"id", "kind"?, "at"?, "user"?}`` plays one song
    (:meth:`AppleMusicEmulator.play`); ``{"session": N, "at"?, "seed"?, "user"?}`` plays a
    listening session of N plays (:meth:`AppleMusicEmulator.listening_session`). Answers
    ``{"plays": [{"at", "type", "id"}, ...]}``.
    """
    payload = _post_payload(request, {"id", "kind", "at", "user", "session", "seed"})
    if isinstance(payload, Response):
        return payload
    try:
        at, user = _moment(payload.get("at")), payload.get("user", 0)
        if "session" in payload:
            if "id" in payload or "kind" in payload:
                raise ValueError("give either id (one play) or session (a listening session), not both")
            seed = payload.get("seed")
            made = emulator.listening_session(payload["session"], start=at, seed=seed, user=user)
        elif "id" in payload:
            kind = payload.get("kind")
            args = (kind, payload["id"]) if kind is not None else (payload["id"],)
            made = [emulator.play(*args, at=at, user=user)]
        else:
            raise ValueError("give id (one play) or session (a listening session of that many plays)")
    except (ValueError, TypeError) as err:
        return error(400, "Bad Request", str(err), "40000")
    return json_response(200, {"plays": [{**play, "at": play["at"].isoformat()} for play in made]})


#: the control paths and their handlers
CONTROL_PATHS: dict[str, Callable[[AppleMusicEmulator, Request], Response]] = {
    CONTROL_CHANGES_PATH: control_changes,
    CONTROL_STATS_PATH: control_stats,
    CONTROL_PLAY_PATH: control_play,
}
