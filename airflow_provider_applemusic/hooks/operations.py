"""
Every operation of the hooks, written once as a plan (:mod:`~airflow_provider_applemusic.api.plans`):
its requests, in order, and how their answers make the result. Arguments are checked by the hook
method that takes them; a plan trusts what it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.catalog import library_ids_from_catalog, order_found, storefront_id
from airflow_provider_applemusic.api.codes import code_lookups, matches_by_code
from airflow_provider_applemusic.api.enrichment import attributes_by_id
from airflow_provider_applemusic.api.ids import add_batches, catalog_lookups
from airflow_provider_applemusic.api.plans import Batch, Plan
from airflow_provider_applemusic.api.ratings import rating_requests, ratings_from_body
from airflow_provider_applemusic.api.replay import REPLAY
from airflow_provider_applemusic.api.resources import listing_resource, resource_row
from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicError
from airflow_provider_applemusic.transport.transport import Request

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping

    from airflow_provider_applemusic.api.enrichment import Lookup

STOREFRONT_PATH = "/v1/me/storefront"
LIBRARY_PATH = "/v1/me/library"
PLAYLISTS_PATH = listing_resource("library-playlists").path


def playlist_path(playlist_id: str) -> str:
    """
    The path of one library playlist (the id checked).

    :param playlist_id: a library playlist id (``p.``).
    """
    listing_resource("library-playlist-tracks").listing_path(playlist_id)
    return f"{PLAYLISTS_PATH}/{playlist_id}"


def first_resource(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """
    The first resource of a fetch's ``data``, or None.

    :param body: a decoded answer, or None.
    """
    data = (body or {}).get("data") or []
    return dict(data[0]) if data else None


def storefront_plan() -> Plan[str]:
    """The user's storefront id (``GET /v1/me/storefront``)."""
    return storefront_id((yield Request("GET", STOREFRONT_PATH, expect_data=True)))


def catalog_storefront_plan(storefront: str | None, cache: MutableMapping[str, str]) -> Plan[str]:
    """``storefront`` when given, else the user's, asked once per ``cache``."""
    if storefront:
        return storefront
    if "user" not in cache:
        cache["user"] = yield from storefront_plan()
    return cache["user"]


def library_playlist_plan(playlist_id: str) -> Plan[dict[str, Any] | None]:
    """One library playlist, or None when it is not found."""
    return first_resource(
        (yield Request("GET", playlist_path(playlist_id), expect_data=True, not_found="none"))
    )


def add_to_library_plan(ids: Mapping[str, list[str]], language: str | None) -> Plan[None]:
    """``POST /v1/me/library`` in batches (idempotent: safe to retry)."""
    for batch in add_batches(ids):
        params = {f"ids[{kind}]": ",".join(values) for kind, values in batch.items()}
        if language:
            params["l"] = language
        yield Request("POST", LIBRARY_PATH, params, expect_json=False)


def find_in_library_plan(
    ids: Mapping[str, list[str]], storefront: str | None, cache: MutableMapping[str, str]
) -> Plan[dict[str, dict[str, str | None]]]:
    """
    ``{type: {catalog_id: library_id or None}}`` from catalog look-ups with ``relate=library``,
    sent as one batch; when some fail, an error waiting cannot cure (a refused token) goes first.
    """
    front = yield from catalog_storefront_plan(storefront, cache)
    lookups = catalog_lookups(ids, front)
    answers = yield Batch(
        tuple(Request("GET", path, params, expect_data=True) for _, path, params in lookups)
    )
    failures = [answer for answer in answers if isinstance(answer, AppleMusicError)]
    if failures:
        raise next((err for err in failures if isinstance(err, INCURABLE_ERRORS)), failures[0])
    found: dict[str, dict[str, str | None]] = {kind: {} for kind in ids}
    for (kind, _, _), body in zip(lookups, answers, strict=True):
        found[kind].update(library_ids_from_catalog(body))
    return order_found(ids, found)


def ratings_plan(kind: str, ids: list[str]) -> Plan[dict[str, int]]:
    """``{id: 1 or -1}`` for the rated ids among ``ids``, in their order."""
    found: dict[str, int] = {}
    for path, params in rating_requests(kind, ids):
        body = yield Request("GET", path, params, expect_data=True)
        found.update(ratings_from_body(body, params["ids"].split(",")))
    return {item_id: found[item_id] for item_id in ids if item_id in found}


def catalog_attributes_plan(
    storefront: str, kind: str, ids: tuple[str, ...], language: str | None
) -> Plan[dict[str, dict[str, Any]]]:
    """
    ``{catalog_id: attributes}`` of one catalog multi-fetch (``GET /v1/catalog/{sf}/{kind}?ids=``,
    at most :data:`~airflow_provider_applemusic.api.enrichment.MAX_CATALOG_IDS` ids); ids the
    catalog no longer resolves are left out.
    """
    params = {"ids": ",".join(ids)}
    if language:
        params["l"] = language
    body = yield Request("GET", f"/v1/catalog/{storefront}/{kind}", params, expect_data=True)
    return attributes_by_id(body, ids)


def enrichment_plan(
    lookup: Lookup, cache: MutableMapping[str, str], language: str | None
) -> Plan[dict[str, Any]]:
    """
    One enrichment look-up: catalog attributes in the user's storefront (asked once per
    ``cache``), or ratings.
    """
    if lookup.kind == "catalog":
        front = yield from catalog_storefront_plan(None, cache)
        return (yield from catalog_attributes_plan(front, lookup.type, lookup.ids, language))
    return dict((yield from ratings_plan(lookup.type, list(lookup.ids))))


def code_resources_plan(
    wanted: Mapping[str, list[str]], storefront: str | None, cache: MutableMapping[str, str]
) -> Plan[dict[str, dict[str, list[dict[str, Any]]]]]:
    """The catalog resources each normalised code matches: ``{"isrcs": {code: [...]}, "upcs": {...}}``."""
    front = (yield from catalog_storefront_plan(storefront, cache)) if any(wanted.values()) else ""
    resolved: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for param, codes in wanted.items():
        by_code: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
        for path, params in code_lookups(param, codes, front):
            body = yield Request("GET", path, params, expect_data=True)
            for code, found in matches_by_code(body, param).items():
                if code in by_code:
                    by_code[code] += found
        resolved[param] = by_code
    return resolved


def replay_plan(language: str | None) -> Plan[dict[str, Any] | None]:
    """
    The user's latest Replay summary (``GET /v1/me/music-summaries?filter[year]=latest`` with
    every view and its items included), or None when no year is available yet (the service
    answers that it does not exist: 404; or no ``data``).
    """
    row = resource_row(REPLAY)
    params = dict(row.query)
    if language:
        params["l"] = language
    return first_resource((yield Request("GET", row.path, params, expect_data=True, not_found="none")))


def create_playlist_plan(
    name: str, description: str | None, tracks: list[dict[str, str]]
) -> Plan[dict[str, Any]]:
    """Create a library playlist holding ``tracks`` (typed items); never sent twice blindly."""
    attributes: dict[str, Any] = {"name": name}
    if description:
        attributes["description"] = description
    body: dict[str, Any] = {"attributes": attributes}
    if tracks:
        body["relationships"] = {"tracks": {"data": tracks}}
    answer = yield Request("POST", PLAYLISTS_PATH, json_body=body, expect_data=True, idempotent=False)
    return dict(answer["data"][0])


def append_tracks_plan(playlist_id: str, tracks: list[dict[str, str]]) -> Plan[None]:
    """Append ``tracks`` (typed items) to a playlist; never sent twice blindly."""
    path = listing_resource("library-playlist-tracks").listing_path(playlist_id)
    yield Request("POST", path, json_body={"data": tracks}, expect_json=False, idempotent=False)
