"""
What a listing's 404 at offset 0 means, decided in one place for the sync and async hooks.

The service answers an empty collection with 404 at offset 0. Some accounts reportedly answer
``/v1/me/library/songs`` and a playlist's tracks with 404 whatever they hold, while the
playlist fetched with ``include=tracks`` carries its tracks. So a 404 at offset 0 is:

- for a listing the parent carries inline (a playlist's tracks, see
  :attr:`~airflow_provider_applemusic.resources.ListingResource.inline_in_parent`): the parent
  is fetched with that ``include`` and its relationship is the first page (empty when it holds
  nothing: the playlist is truly empty);
- for a listing with ``evidence`` (library songs): an empty collection only when every
  evidence listing is empty too, else :class:`AppleMusicListingUnavailableError`;
- for the others: an empty collection.

The rules are a plan (a generator) that yields the GETs it needs and is sent their answers;
:func:`run_plan` and :func:`arun_plan` drive it with a sync or an async hook's ``request``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicListingUnavailableError
from airflow_provider_applemusic.http_policy import empty_listing, is_empty_listing
from airflow_provider_applemusic.resources import ListingResource, listing_resource

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Generator, Mapping


@dataclass(frozen=True)
class Fetch:
    """
    One GET a plan needs.

    :param path: the path below the host.
    :param params: the query.
    :param listing_offset: a listing page at this offset: the listing rules of a 404 apply.
    :param missing_ok: a 404 is sent back to the plan as None instead of raised.
    """

    path: str
    params: dict[str, str] = field(default_factory=dict)
    listing_offset: int | None = None
    missing_ok: bool = False


if TYPE_CHECKING:
    from typing import TypeAlias

    #: yields the GETs it needs, is sent each answer (None: a 404 it said it could take),
    #: returns the first page to use
    Plan: TypeAlias = Generator[Fetch, dict[str, Any] | None, dict[str, Any]]


def first_page_plan(row: ListingResource, parent_id: str | None, params: Mapping[str, str]) -> Plan:
    """
    The plan that reads a listing's first page (``params`` as every page has them, but
    ``offset``) and decides what a 404 there means.
    """
    page = yield Fetch(row.listing_path(parent_id), {**params, "offset": "0"}, listing_offset=0)
    assert page is not None
    if not is_empty_listing(page):
        return page
    if row.inline_in_parent:
        return (yield from _inline_page(row, parent_id, params))
    for name in row.evidence:
        evidence = listing_resource(name)
        sample = yield Fetch(evidence.path, {"limit": "1", "offset": "0"}, listing_offset=0)
        held = _count(sample or {})
        if held:
            raise AppleMusicListingUnavailableError(
                f"Apple Music GET {row.path} answered 404, as for an empty collection, yet the "
                f"library holds {held} {name}: this account does not serve the {row.name} "
                "listing (reported for some accounts), so its items cannot be listed, and an "
                "empty listing would lose them. List library-albums, or the tracks of "
                "library-playlists (an export's playlist_tracks=True), instead",
                status=404,
                code="40400",
                path=row.path,
            )
    return page


def _inline_page(row: ListingResource, parent_id: str | None, params: Mapping[str, str]) -> Plan:
    """The parent's inline relationship as a first page (``next`` kept); empty when it has none."""
    relationship = str(row.inline_in_parent)
    query = {"include": relationship}
    query.update({key: params[key] for key in ("extend", "l") if key in params})
    answer = yield Fetch(row.parent_path(parent_id), query, missing_ok=True)
    data = (answer or {}).get("data") or []
    parent = data[0] if data and isinstance(data[0], dict) else {}
    inline = (parent.get("relationships") or {}).get(relationship) or {}
    items = inline.get("data") or []
    if not isinstance(items, list) or not items:
        return empty_listing()  # truly empty, or the parent is gone
    page: dict[str, Any] = {"data": list(items)}
    if inline.get("next"):
        page["next"] = inline["next"]
        if isinstance(inline.get("meta"), dict):
            page["meta"] = inline["meta"]
    else:
        page["meta"] = {"total": len(items)}
    return page


def _count(page: Mapping[str, Any]) -> int:
    """How many items a first page says its listing holds (``meta.total``, else its ``data``)."""
    total = (page.get("meta") or {}).get("total")
    shown = len(page.get("data") or [])
    if isinstance(total, int) and not isinstance(total, bool):
        return max(total, shown)
    return shown


def run_plan(plan: Plan, fetch: Callable[[Fetch], dict[str, Any] | None]) -> dict[str, Any]:
    """Drive ``plan`` with a sync ``fetch``; return what it returns."""
    step = next(plan)
    while True:
        try:
            step = plan.send(fetch(step))
        except StopIteration as done:
            return dict(done.value)


async def arun_plan(plan: Plan, fetch: Callable[[Fetch], Awaitable[dict[str, Any] | None]]) -> dict[str, Any]:
    """Drive ``plan`` with an async ``fetch``; return what it returns."""
    step = next(plan)
    while True:
        try:
            step = plan.send(await fetch(step))
        except StopIteration as done:
            return dict(done.value)
