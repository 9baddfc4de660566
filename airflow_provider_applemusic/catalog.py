"""Reading catalog answers: the user's storefront, and which catalog ids are in the library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_applemusic.exceptions import AppleMusicRequestError


def storefront_id(body: Mapping[str, Any]) -> str:
    """The storefront id in a ``GET /v1/me/storefront`` body."""
    try:
        return str(body["data"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise AppleMusicRequestError(
            "Apple Music GET /v1/me/storefront answered without a storefront id",
            path="/v1/me/storefront",
        ) from None


def library_ids_from_catalog(body: Mapping[str, Any]) -> dict[str, str | None]:
    """``{catalog_id: library_id or None}`` from a catalog response fetched with relate=library."""
    found: dict[str, str | None] = {}
    for resource in body.get("data") or []:
        if not isinstance(resource, Mapping) or "id" not in resource:
            continue
        library = ((resource.get("relationships") or {}).get("library") or {}).get("data") or []
        found[str(resource["id"])] = str(library[0]["id"]) if library else None
    return found


def catalog_id_of(resource: Mapping[str, Any]) -> str | None:
    """
    The catalog id behind a resource: ``playParams.catalogId``, else the linked catalog resource
    (``include=catalog``), else its own id when it is a catalog resource; None for an upload.
    """
    play = (resource.get("attributes") or {}).get("playParams") or {}
    if isinstance(play, Mapping) and play.get("catalogId"):
        found = play["catalogId"]
    else:
        related = ((resource.get("relationships") or {}).get("catalog") or {}).get("data") or []
        if related and isinstance(related[0], Mapping):
            found = related[0].get("id")
        else:
            kind = str(resource.get("type") or "")
            found = resource.get("id") if kind and not kind.startswith("library-") else None
    return found if isinstance(found, str) else None


def description_text(resource: Mapping[str, Any]) -> str | None:
    """A resource's description as text (the service nests it as ``{"standard": ...}``)."""
    value = (resource.get("attributes") or {}).get("description")
    if isinstance(value, Mapping):
        value = value.get("standard")
    return value if isinstance(value, str) else None


def order_found(
    wanted: Mapping[str, list[str]], found: Mapping[str, Mapping[str, str | None]]
) -> dict[str, dict[str, str | None]]:
    """``found`` restricted to ``wanted`` ids, in their order; unknown ids left out."""
    return {
        kind: {cid: found[kind][cid] for cid in values if cid in found.get(kind, {})}
        for kind, values in wanted.items()
    }
