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


def order_found(
    wanted: Mapping[str, list[str]], found: Mapping[str, Mapping[str, str | None]]
) -> dict[str, dict[str, str | None]]:
    """``found`` restricted to ``wanted`` ids, in their order; unknown ids left out."""
    return {
        kind: {cid: found[kind][cid] for cid in values if cid in found.get(kind, {})}
        for kind, values in wanted.items()
    }
