"""Personal ratings (``GET /v1/me/ratings/{kind}``): the kinds, id checks, batches and answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_applemusic.api.ids import ID_SHAPES, LIBRARY_ID_SHAPES, checked_ids, chunks, short_repr
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

#: what can be asked for ratings: catalog types (catalog ids) and library types (library ids)
RATING_KINDS = (*ID_SHAPES, *LIBRARY_ID_SHAPES)
#: kinds the service has but rates nothing of (asking answers an error)
UNRATED_KINDS = ("artists", "library-artists")
#: the most ids one ratings request takes (more answer 400 naming ``ids``)
MAX_RATING_IDS = 200
#: a love and a dislike, the values ``attributes.value`` holds
LOVE, DISLIKE = 1, -1


def validate_rating_kind(kind: Any, *, param: str = "kind") -> str:
    """
    Return ``kind`` if ratings can be asked for it, else raise naming ``param`` and the kinds
    there are (artists, in the catalog or the library, have no ratings).
    """
    if not isinstance(kind, str) or kind not in RATING_KINDS:
        why = ": artists have no ratings in Apple Music" if kind in UNRATED_KINDS else ""
        raise AppleMusicConfigError(
            f"{param} must be one of {', '.join(RATING_KINDS)}, got {short_repr(kind)}{why}"
        )
    return kind


def normalize_rating_ids(kind: str, ids: Any, *, param: str = "ids") -> list[str]:
    """
    Check ``ids`` (a list of ids or one comma-separated string) against ``kind``'s id shape;
    return them de-duplicated, in order. Errors name ``param`` and the bad id.
    """
    return checked_ids(kind, ids, where=param, name_kind=True)


def rating_requests(kind: str, ids: list[str]) -> list[tuple[str, dict[str, str]]]:
    """``(path, params)`` of the requests that ask ``ids``' ratings: at most 200 ids, a short query each."""
    return [(f"/v1/me/ratings/{kind}", {"ids": ",".join(chunk)}) for chunk in chunks(ids, MAX_RATING_IDS)]


def ratings_from_body(body: Mapping[str, Any], wanted: Iterable[str]) -> dict[str, int]:
    """``{id: value}`` of the ratings resources in an answer, for the ids asked for only."""
    asked = set(wanted)
    found: dict[str, int] = {}
    for resource in body.get("data") or []:
        if not isinstance(resource, Mapping):
            continue
        value = (resource.get("attributes") or {}).get("value")
        item_id = resource.get("id")
        if item_id in asked and value in (LOVE, DISLIKE) and not isinstance(value, bool):
            found[str(item_id)] = int(value)
    return found
