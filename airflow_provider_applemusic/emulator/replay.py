"""
The user's Replay (``GET /v1/me/music-summaries``): the latest year's top songs, albums and artists.

The summary is drawn from the user's catalog with a generator of its own (the library a seed
gives does not depend on it): :data:`TOP_SIZES` entries a view, each entry's item under
``relationships.{song|album|artist}.data[0]`` (the whole catalog resource with ``include`` of
it, else ``{id, type, href}``); the top-songs entry at rank :data:`WITHDRAWN_RANK` points at a
song the service no longer has (``data`` empty), as entries of old years do. No play counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.catalog import ARTISTS, GENRES
from airflow_provider_applemusic.emulator.responses import Response, error, json_response, not_found

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator.library import Library

MUSIC_SUMMARIES_PATH = "/v1/me/music-summaries"
#: the views of a summary, the relationship each entry's item is under, and its catalog type
VIEWS = {
    "top-songs": ("song", "songs"),
    "top-albums": ("album", "albums"),
    "top-artists": ("artist", "artists"),
}
#: entries of each view
TOP_SIZES = {"top-songs": 25, "top-albums": 10, "top-artists": 10}
#: the rank of the top-songs entry whose song is gone
WITHDRAWN_RANK = 17


def replay_year() -> int:
    """The latest Replay year: the current year (UTC)."""
    return dt.datetime.now(dt.timezone.utc).year


def _artist(name: str) -> dict[str, Any]:
    """A catalog artist resource for ``name`` (its id derived from the name)."""
    artist_id = str(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 1_000_000_000 + 100_000_000)
    return {
        "id": artist_id,
        "type": "artists",
        "href": f"/v1/catalog/us/artists/{artist_id}",
        "attributes": {
            "name": name,
            "genreNames": [GENRES[int(artist_id) % len(GENRES)]],
            "url": f"https://music.apple.com/us/artist/{artist_id}",
        },
    }


def summary(library: Library, year: int) -> dict[str, Any]:
    """
    The whole summary of ``year`` with every view and every item included: ``{id, type,
    attributes {period, year}, views {view: {data: [entries]}}}``.
    """
    rng = random.Random(f"replay:{library.seed}:{year}")
    catalog = library.catalog
    views: dict[str, Any] = {}
    for view, (relationship, kind) in VIEWS.items():
        if kind == "artists":
            items = [_artist(name) for name in rng.sample(ARTISTS, min(TOP_SIZES[view], len(ARTISTS)))]
        else:
            ids = [i for i in catalog.items[kind] if catalog.resolves(kind, i)]
            chosen = rng.sample(ids, min(TOP_SIZES[view], len(ids)))
            items = [catalog.resource(kind, i, "us") for i in chosen]
        entries = []
        for rank, item in enumerate(items, 1):
            data = [] if view == "top-songs" and rank == WITHDRAWN_RANK else [item]
            entries.append(
                {
                    "id": f"{year}-{view}-{rank}",
                    "type": "music-summaries-entries",
                    "relationships": {relationship: {"data": data}},
                }
            )
        views[view] = {"href": f"{MUSIC_SUMMARIES_PATH}/year-{year}/view/{view}", "data": entries}
    return {
        "id": f"year-{year}",
        "type": "music-summaries",
        "href": f"{MUSIC_SUMMARIES_PATH}/year-{year}",
        "attributes": {"period": "year", "year": year},
        "views": views,
    }


def _identifier(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: resource[key] for key in ("id", "type", "href")}


def music_summaries(library: Library, query: dict[str, str], *, missing: bool) -> Response:
    """
    ``GET /v1/me/music-summaries``: ``filter[year]`` is required (``latest`` or a year; other
    values 400 naming it); ``views`` names the views to return (unknown ones 400 naming it;
    none: no views); ``include`` (``song``, ``album``, ``artist``) puts whole items in place of
    identifiers. A year without a summary (any but the latest, or every year with
    ``replay_missing``) answers 404, code 40400.
    """
    wanted = query.get("filter[year]")
    if wanted is None or not (wanted == "latest" or re.fullmatch(r"\d{4}", wanted)):
        detail = "filter[year] is required: 'latest' or a year such as 2025"
        return error(400, "Invalid Parameter Value", detail, "40005", "filter[year]")
    views = [v for v in query.get("views", "").split(",") if v]
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        detail = f"Unknown views: {', '.join(unknown)}; views are {', '.join(VIEWS)}"
        return error(400, "Invalid Parameter Value", detail, "40005", "views")
    year = replay_year()
    if missing or wanted not in ("latest", str(year)):
        return not_found(f"No music summary exists for year {wanted}.")
    include = set(query.get("include", "").split(","))
    whole = summary(library, year)
    body = {key: value for key, value in whole.items() if key != "views"}
    body["views"] = {}
    for view in views:
        relationship = VIEWS[view][0]
        entries = []
        for entry in whole["views"][view]["data"]:
            data = entry["relationships"][relationship]["data"]
            shown = data if relationship in include else [_identifier(item) for item in data]
            entries.append({**entry, "relationships": {relationship: {"data": shown}}})
        body["views"][view] = {**whole["views"][view], "data": entries}
    return json_response(200, {"data": [body]})
