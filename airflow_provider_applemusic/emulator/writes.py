"""
The emulated API's writes: adds to the library, playlist creation, appended tracks.

``POST /v1/me/library?ids[albums]=...`` answers 202; the items appear ``add_delay`` seconds
later, unknown ids silently ignored. ``POST /v1/me/library/playlists`` (JSON body:
``attributes.name``, optional ``attributes.description``, optional
``relationships.tracks.data``) answers 201 with the new library playlist (``canEdit``), which
appears in the listings and by id only ``playlist_delay`` seconds later (404 until then,
appending to it included); an undocumented ``attributes.isPublic`` publishes it.
``POST /v1/me/library/playlists/{id}/tracks`` (body ``{"data": [{"id", "type": "songs" |
"library-songs"}]}``) appends in order, duplicates kept, library and catalog songs mixed, adding
catalog songs to the library, and answers 204; a playlist without ``canEdit`` answers 403. In
both, each item must be typed for its id, ``library-songs`` for an ``i.`` id and ``songs`` for a
numeric one: an item typed otherwise answers 400 (code 40005, ``source.parameter`` naming it,
e.g. ``data[3].type``) and nothing of the request is applied; ids the service does not know are
skipped silently; a body that is not JSON or not of that shape answers 400, PUT 405, a trailing
slash 400.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.kinds import CATALOG_TYPES
from airflow_provider_applemusic.emulator.responses import Response, error, json_response, not_found

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator.accounts import Account
    from airflow_provider_applemusic.emulator.options import EmulatorOptions
    from airflow_provider_applemusic.emulator.stats import EmulatorStats

#: track types a playlist write accepts: ``library-songs`` for an ``i.`` id, ``songs`` for a
#: catalog (numeric) id
TRACK_TYPES = ("songs", "library-songs")


def json_body(body: bytes) -> dict[str, Any] | Response:
    """The request body as a JSON object, or a 400."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return error(400, "Invalid Request Body", "The request body is not valid JSON.", "40007")
    if not isinstance(payload, dict):
        return error(400, "Invalid Request Body", "The request body must be a JSON object.", "40007")
    return payload


def track_entries(data: Any, pointer: str) -> list[tuple[str, str]] | Response:
    """
    ``[{"id", "type"}]`` as ``(type, id)`` pairs; a 400 naming ``pointer`` (40007) when it
    is not such a list, or naming the first item typed wrongly for its id (40005,
    ``pointer[n].type``, or ``pointer[n].id`` for an id of neither shape): ``library-songs``
    takes an ``i.`` id, ``songs`` a numeric one.
    """
    if not isinstance(data, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"] for entry in data
    ):
        return error(
            400,
            "Invalid Request Body",
            f"{pointer} must be a list of {{id, type}} with type one of {', '.join(TRACK_TYPES)}.",
            "40007",
            pointer,
        )
    for index, entry in enumerate(data):
        track_id, kind = entry["id"], entry.get("type")
        library, catalog = track_id.startswith("i."), track_id.isdigit()
        if (kind == "library-songs" and library) or (kind == "songs" and catalog):
            continue
        if kind in TRACK_TYPES and not (library or catalog):
            field_name, detail = "id", f"{track_id!r} is neither a library song id (i.) nor a catalog id"
        else:
            expected = "library-songs" if library else "songs" if catalog else "library-songs or songs"
            field_name, detail = "type", f"{track_id!r} must be typed {expected}, got {kind!r}"
        return error(400, "Invalid Parameter Value", detail, "40005", f"{pointer}[{index}].{field_name}")
    return [(entry["type"], entry["id"]) for entry in data]


def _invalid_body(detail: str, parameter: str) -> Response:
    return error(400, "Invalid Request Body", detail, "40007", parameter)


class WriteRoutes:
    """The write handlers of one request, acting on one user's account."""

    def __init__(self, options: EmulatorOptions, stats: EmulatorStats, account: Account) -> None:
        self.options = options
        self.stats = stats
        self.account = account
        self.library = account.library

    def add_to_library(self, query: dict[str, str]) -> Response:
        """``POST /v1/me/library?ids[type]=...``: 202; the items the catalog resolves appear later."""
        requested = {
            key[len("ids[") : -1]: value
            for key, value in query.items()
            if key.startswith("ids[") and key.endswith("]")
        }
        if not requested:
            return error(400, "Invalid Parameter Value", "ids is required", "40005", "ids")
        self.stats.posts += 1
        due = time.monotonic() + self.options.add_delay
        for kind, value in requested.items():
            if kind not in CATALOG_TYPES:
                return error(400, "Invalid Parameter Value", f"Unknown type {kind}", "40005", f"ids[{kind}]")
            for catalog_id in value.split(","):
                if self.library.catalog.resolves(kind, catalog_id):
                    self.account.pending.append((due, kind, catalog_id))
        return Response(202, b"")

    def playlist_write(self, method: str, path: str, rest: list[str], body: bytes) -> Response:
        """
        Writes under ``/v1/me/library/playlists``: POST creates (no more segments) or appends
        (``{id}/tracks``); anything else 405; a trailing slash 400, like ``/v1/me/library``.
        """
        writable = not rest or (len(rest) == 2 and rest[1] == "tracks")
        if method != "POST" or not writable:
            allowed = "GET or POST" if writable else "GET"
            return error(405, "Method Not Allowed", f"Use {allowed}.", "40500")
        if path.endswith("/"):
            return error(400, "Invalid Request", f"No resource at {path}.", "40000")
        payload = json_body(body)
        if isinstance(payload, Response):
            return payload
        if not rest:
            return self._create_playlist(payload)
        return self._append_tracks(rest[0], payload)

    def _create_playlist(self, payload: dict[str, Any]) -> Response:
        attributes = payload.get("attributes")
        if not isinstance(attributes, dict):
            attributes = {}
        name, description = attributes.get("name"), attributes.get("description")
        if not isinstance(name, str) or not name.strip():
            return _invalid_body("attributes.name is required.", "attributes.name")
        if description is not None and not isinstance(description, str):
            return _invalid_body("attributes.description must be a string.", "attributes.description")
        relationships = payload.get("relationships") or {}
        tracks = relationships.get("tracks", {}) if isinstance(relationships, dict) else None
        data = tracks.get("data", []) if isinstance(tracks, dict) else None
        entries = track_entries(data, "relationships.tracks.data")
        if isinstance(entries, Response):
            return entries
        public = attributes.get("isPublic")
        if public is not None and not isinstance(public, bool):
            return _invalid_body("attributes.isPublic must be a boolean.", "attributes.isPublic")
        now = dt.datetime.now(dt.timezone.utc)
        playlist = self.library.create_playlist(name, description, now, public=bool(public))
        self.library.append_tracks(playlist.library_id, entries, now)
        due = time.monotonic() + self.options.playlist_delay
        self.account.pending_playlists.append((due, playlist.library_id))
        self.stats.playlist_writes["create"] += 1
        if self.options.playlist_delay <= 0:
            self.account.materialize()
        return json_response(201, {"data": [self.library.item_resource(playlist, False)]})

    def _append_tracks(self, playlist_id: str, payload: dict[str, Any]) -> Response:
        playlist = self.library.collections["library-playlists"].items.get(playlist_id)
        if playlist is None or playlist.hidden:
            return not_found(f"Resource with id {playlist_id} not found")
        if not playlist.attributes.get("canEdit"):
            return error(
                403,
                "Forbidden",
                "Only playlists created by this app can be changed (canEdit is false).",
                "40300",
            )
        entries = track_entries(payload.get("data"), "data")
        if isinstance(entries, Response):
            return entries
        if not entries:
            return _invalid_body("data must name at least one track.", "data")
        self.library.append_tracks(playlist_id, entries, dt.datetime.now(dt.timezone.utc))
        self.stats.playlist_writes["append"] += 1
        return Response(204, b"")
