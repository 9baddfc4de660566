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
    (``include=catalog``), else its own id when it is a catalog resource; None for an upload, a
    library song without ``playParams`` (removed from the service) or anything not shaped so.
    """
    play = _member(_member(resource, "attributes"), "playParams")
    found = play.get("catalogId")
    if not found:
        related = _member(_member(resource, "relationships"), "catalog").get("data")
        if isinstance(related, list) and related and isinstance(related[0], Mapping):
            found = related[0].get("id")
        else:
            kind = resource.get("type")
            library = not isinstance(kind, str) or not kind or kind.startswith("library-")
            found = None if library else resource.get("id")
    return found if isinstance(found, str) and found else None


def _member(value: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``value[name]`` when it is a mapping, else an empty one."""
    member = value.get(name)
    return member if isinstance(member, Mapping) else {}


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
