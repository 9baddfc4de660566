"""Catalog id validation, normalisation and request batching (pure functions)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

#: resource types that can be added to a library and checked for presence
RESOURCE_TYPES = ("albums", "songs", "playlists", "music-videos")
#: the most ids Apple accepts in one catalog multi-fetch; also used per type when adding
MAX_IDS_PER_REQUEST = 100
#: keep every query string well under the URL limits of servers and proxies (414)
MAX_QUERY_CHARS = 4000

_NUMERIC_ID = re.compile(r"^[0-9]{1,20}$")
_PLAYLIST_ID = re.compile(r"^pl\.[A-Za-z0-9-]{1,100}$")
#: each catalog type's id pattern and how to describe it in an error
ID_SHAPES = {
    "albums": (_NUMERIC_ID, "digits, e.g. '1577502911'"),
    "songs": (_NUMERIC_ID, "digits, e.g. '1440857781'"),
    "music-videos": (_NUMERIC_ID, "digits, e.g. '1442979041'"),
    "playlists": (_PLAYLIST_ID, "'pl.' then letters, digits or dashes, e.g. 'pl.u-aZb0N9PsZmE'"),
}


def _library_shape(prefix: str) -> tuple[re.Pattern[str], str]:
    pattern = re.compile(rf"^{re.escape(prefix)}[A-Za-z0-9]{{1,100}}$")
    return pattern, f"'{prefix}' then letters or digits, e.g. '{prefix}AbC123'"


#: each library type's id pattern and how to describe it in an error
LIBRARY_ID_SHAPES = {
    "library-albums": _library_shape("l."),
    "library-songs": _library_shape("i."),
    "library-playlists": _library_shape("p."),
    "library-music-videos": _library_shape("i."),
}


def short_repr(value: object) -> str:
    """``repr(value)``, cut to 60 characters (for error messages)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _candidates(values: Any, *, where: str, noun: str) -> Iterable[Any]:
    """The items of a list of ids, or of one comma-separated string of them."""
    if isinstance(values, str):
        return values.split(",")
    if isinstance(values, Iterable) and not isinstance(values, (bytes, Mapping)):
        return values
    raise AppleMusicConfigError(
        f"{where} must be a list of {noun}s or a comma-separated string, got {type(values).__name__}"
    )


def checked_ids(
    kind: str, values: Any, *, where: str, noun: str = "id", name_kind: bool = False
) -> list[str]:
    """
    Check ``kind``'s ids (a list, or one comma-separated string) against its shape in
    :data:`ID_SHAPES` or :data:`LIBRARY_ID_SHAPES`; return them stripped and de-duplicated, in
    order. Errors name ``where`` and the bad id as a ``noun`` (and ``kind`` with ``name_kind``).
    """
    candidates = _candidates(values, where=where, noun=noun)
    pattern, shape = {**ID_SHAPES, **LIBRARY_ID_SHAPES}[kind]
    seen: dict[str, None] = {}
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and pattern is _NUMERIC_ID:
            value = str(value)
        if not isinstance(value, str):
            raise AppleMusicConfigError(f"{where} holds {short_repr(value)}, which is not a string id")
        value = value.strip()
        if not value and isinstance(values, str):
            continue
        if not pattern.match(value):
            of_kind = f" for kind {kind!r}" if name_kind else ""
            raise AppleMusicConfigError(
                f"{where} holds malformed {noun} {short_repr(value)}{of_kind}: {kind} ids are {shape}"
            )
        seen.setdefault(value)
    return list(seen)


def track_type(track_id: str) -> str | None:
    """``library-songs`` for a library song id (``i.…``), ``songs`` for a catalog one (digits), else None."""
    if LIBRARY_ID_SHAPES["library-songs"][0].match(track_id):
        return "library-songs"
    return "songs" if _NUMERIC_ID.match(track_id) else None


def normalize_tracks(values: Any, *, param: str = "tracks", unique: bool = False) -> list[str]:
    """
    Check a playlist's songs: library song ids (``i.…``) and catalog song ids (digits) mixed,
    a list or one comma-separated string; return them stripped, in the order given (repeats
    kept unless ``unique``). Anything else is refused, naming ``param``, the id and what is allowed.
    """
    tracks: list[str] = []
    for value in _candidates(values, where=param, noun="song id"):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise AppleMusicConfigError(f"{param} holds {short_repr(value)}, which is not a string id")
        value = value.strip()
        if not value and isinstance(values, str):
            continue
        if track_type(value) is None:
            raise AppleMusicConfigError(
                f"{param} holds {short_repr(value)}, which is not a song id: give library song "
                f"ids ({LIBRARY_ID_SHAPES['library-songs'][1]}) or catalog song ids "
                f"({ID_SHAPES['songs'][1]})"
            )
        tracks.append(value)
    return list(dict.fromkeys(tracks)) if unique else tracks


def track_items(tracks: Iterable[str], *, param: str = "tracks") -> list[dict[str, str]]:
    """The ``{"id", "type"}`` items of a playlist write, each typed by its id, in order."""
    checked = normalize_tracks(tracks, param=param)
    return [{"id": track, "type": track_type(track) or "songs"} for track in checked]


def normalize_ids(ids: Any, *, param: str = "ids") -> dict[str, list[str]]:
    """
    Validate a ``{type: ids}`` mapping and return it with each type's ids de-duplicated.

    A type's ids may be a list of strings or one string of comma-separated ids. Types with no
    ids are dropped; an empty result is an error. Every error names ``param`` and the bad type
    or id, and says what is allowed.
    """
    if not isinstance(ids, Mapping):
        raise AppleMusicConfigError(
            f"{param} must be a mapping of resource type to catalog ids, e.g. "
            f"{{'albums': ['1577502911']}}, got {type(ids).__name__}"
        )
    result: dict[str, list[str]] = {}
    for kind, values in ids.items():
        if kind not in ID_SHAPES:
            raise AppleMusicConfigError(
                f"{param} has unknown resource type {short_repr(kind)}: allowed types are "
                f"{', '.join(RESOURCE_TYPES)}"
            )
        checked = checked_ids(kind, values, where=f"{param}[{kind!r}]", noun="catalog id")
        if checked:
            result[kind] = checked
    if not result:
        raise AppleMusicConfigError(
            f"{param} holds no catalog ids: give at least one, e.g. {{'albums': ['1577502911']}}"
        )
    return result


def parse_ids(value: Any, *, param: str = "ids") -> dict[str, list[str]]:
    """
    :func:`normalize_ids` for operator arguments: a string (a rendered template or an XCom
    pulled as text) is parsed as JSON first.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise AppleMusicConfigError(
                f"{param} rendered to a string that is not JSON: give a mapping such as "
                f'{{"albums": ["1577502911"]}}, got {short_repr(value)}'
            ) from None
    return normalize_ids(value, param=param)


def missing_ids(
    wanted: Mapping[str, list[str]], found: Mapping[str, Mapping[str, str | None]]
) -> dict[str, list[str]]:
    """The ids of ``wanted`` that ``found`` does not map to a library id, by type."""
    missing: dict[str, list[str]] = {}
    for kind, values in wanted.items():
        absent = [v for v in values if not (found.get(kind) or {}).get(v)]
        if absent:
            missing[kind] = absent
    return missing


def catalog_lookups(ids: Mapping[str, list[str]], storefront: str) -> list[tuple[str, str, dict[str, str]]]:
    """``(type, path, params)`` of the catalog requests that look ``ids`` up with relate=library."""
    return [
        (kind, f"/v1/catalog/{storefront}/{kind}", {"ids": ",".join(chunk), "relate": "library"})
        for kind, values in ids.items()
        for chunk in chunks(values)
    ]


def chunks(values: list[str], size: int = MAX_IDS_PER_REQUEST) -> list[list[str]]:
    """Split ``values`` into lists of at most ``size`` ids whose comma-joined length fits a query."""
    result: list[list[str]] = []
    current: list[str] = []
    length = 0
    for value in values:
        if current and (len(current) >= size or length + len(value) + 1 > MAX_QUERY_CHARS - 40):
            result.append(current)
            current, length = [], 0
        current.append(value)
        length += len(value) + 1
    if current:
        result.append(current)
    return result


def add_batches(ids: Mapping[str, list[str]]) -> list[dict[str, list[str]]]:
    """
    Pack normalised ids into POST batches: at most 100 ids per type and a short query each.

    Several types share a request while the query stays under ``MAX_QUERY_CHARS``.
    """
    batches: list[dict[str, list[str]]] = []
    sizes: list[int] = []
    for kind, values in ids.items():
        for chunk in chunks(values):
            length = len(f"&ids[{kind}]=") + sum(len(v) + 1 for v in chunk)
            for index, batch in enumerate(batches):
                if kind not in batch and sizes[index] + length <= MAX_QUERY_CHARS:
                    batch[kind] = chunk
                    sizes[index] += length
                    break
            else:
                batches.append({kind: chunk})
                sizes.append(length)
    return batches
