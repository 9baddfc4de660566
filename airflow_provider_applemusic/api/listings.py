"""
The listing rules, in one place: what a listing's 404 means, where paging ends, and how a page
the service lost for a moment is told from a listing that shrank. Each rule is a plan (see
:mod:`~airflow_provider_applemusic.api.plans`), driven by the sync and async hooks alike.

- A 404 at offset 0 is an empty collection (the service's way of saying so), except: for a
  listing the parent carries inline (a playlist's tracks, see
  :attr:`~airflow_provider_applemusic.api.resources.ListingResource.inline_in_parent`) the parent is
  fetched with that ``include`` and its relationship is the first page (empty when it holds
  nothing: the playlist is truly empty); for a listing with ``evidence`` (library songs) an empty
  collection only when every evidence listing is empty too, else
  :class:`AppleMusicListingUnavailableError` (some accounts answer these listings 404 whatever
  they hold).
- A 404 or a 200 without ``data`` past offset 0 is a truncation: fetched again under the retry
  policy, never taken for the end. When it stays missing, the first page is read again: when the
  listing now ends before that offset it shrank (the page is empty, without ``next``), else the
  error names the offset.
- ``next`` is the authority on the end; short pages while it is present are not the end; each
  listing's identity (by id, or by position) is a column of the resource table, applied by the
  stitchers of :mod:`~airflow_provider_applemusic.api.paging`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.enrichment import include_for, validate_enrich
from airflow_provider_applemusic.api.paging import listing_ends_before, listing_params
from airflow_provider_applemusic.api.resources import ListingResource, listing_resource
from airflow_provider_applemusic.api.validation import (
    join_extend,
    join_include,
    validate_language,
    validate_page_size,
)
from airflow_provider_applemusic.exceptions import AppleMusicListingUnavailableError, AppleMusicRequestError
from airflow_provider_applemusic.transport.errors import (
    TruncatedListingError,
    empty_listing,
    is_empty_listing,
)
from airflow_provider_applemusic.transport.transport import Request

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_provider_applemusic.api.plans import Plan

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ListingQuery:
    """
    What every page of one listing asks for, checked once when it is made (:meth:`checked`): the
    resource's row, the parent (a playlist's id) and the parameters of every page but ``offset``.
    Whoever holds one trusts it; an operator makes it at construction and adds its templated
    ``language`` once rendered (:meth:`with_language`).
    """

    row: ListingResource
    params: dict[str, str]
    parent_id: str | None = None
    #: the checked enrichments (:mod:`~airflow_provider_applemusic.api.enrichment`) its items get
    enrich: tuple[str, ...] = ()

    @classmethod
    def checked(
        cls,
        resource: str,
        *,
        page_size: int | None = None,
        include: Iterable[str] | str | None = None,
        extend: Iterable[str] | str | None = None,
        language: str | None = None,
        parent_id: str | None = None,
        enrich: Iterable[str] | str | None = None,
        size_required: bool = False,
    ) -> ListingQuery:
        """
        The query of ``resource``'s listing; every argument checked, errors naming it (a
        ``parent_id`` only where the resource has a parent). ``page_size`` None is the
        resource's page maximum, unless ``size_required``. ``catalog`` enrichment asks library
        albums and playlists with ``include=catalog`` (where their catalog ids are).
        """
        row = listing_resource(resource)
        enrichments = validate_enrich(enrich, resource)
        row.listing_path(parent_id)  # refuses a missing, malformed or needless parent_id
        if page_size is None and not size_required:
            size = row.page_max
        else:
            size = validate_page_size(page_size, maximum=row.page_max)
        extended = join_extend(extend, required=row.extended)
        included = include_for(resource, enrichments, join_include(include))
        params = listing_params(size, included, extended, validate_language(language))
        params.update(row.query)
        return cls(row, params, parent_id, enrichments)

    def with_language(self, language: str | None) -> ListingQuery:
        """This query with ``l`` set to ``language`` (checked; None leaves it out)."""
        params = {k: v for k, v in self.params.items() if k != "l"}
        if language := validate_language(language):
            params["l"] = language
        return dataclasses.replace(self, params=params)

    @property
    def page_size(self) -> int:
        """Items a page asks for (``limit``)."""
        return int(self.params["limit"])

    def page(self, offset: int, log: logging.Logger | Any = _log) -> Plan[dict[str, Any]]:
        """The plan of the page at ``offset`` (see :func:`page_plan`)."""
        return page_plan(self.row, self.parent_id, self.params, offset, log)


def page_request(path: str, params: Mapping[str, str], offset: int) -> Request:
    """The GET of a listing page at ``offset``: a 404 is an empty collection at 0, a truncation past it."""
    return Request(
        "GET",
        path,
        {**params, "offset": str(offset)},
        expect_data=True,
        not_found="empty" if offset == 0 else "retry",
        offset=offset,
    )


def page_plan(
    row: ListingResource,
    parent_id: str | None,
    params: Mapping[str, str],
    offset: int,
    log: logging.Logger | Any = _log,
) -> Plan[dict[str, Any]]:
    """
    One listing page (``params`` as every page has them, but ``offset``), with every rule above;
    a listing that shrank is said on ``log`` (the hook's, so that it reaches the task log).
    """
    if offset == 0:
        return (yield from first_page_plan(row, parent_id, params))
    path = row.listing_path(parent_id)
    try:
        page: dict[str, Any] = yield page_request(path, params, offset)
    except TruncatedListingError as truncated:
        first = yield from first_page_plan(row, parent_id, params)
        if listing_ends_before(first, offset):
            log.warning(
                "The page at offset %d of %s stayed missing and the listing now ends before it "
                "(the library shrank while it was paged): ending there",
                offset,
                path,
            )
            return {"data": [], "meta": first.get("meta") or {}}
        raise AppleMusicRequestError(
            f"Apple Music GET {path}: the page at offset {offset} stayed missing (truncated) "
            f"within the retry budget, though the listing goes on past it: {truncated}",
            status=truncated.status,
            path=path,
        ) from None
    return page


def first_page_plan(
    row: ListingResource, parent_id: str | None, params: Mapping[str, str]
) -> Plan[dict[str, Any]]:
    """
    A listing's first page (``params`` as every page has them, but ``offset``), a 404 there
    read by the rules above.
    """
    rest = {key: value for key, value in params.items() if key != "offset"}
    page: dict[str, Any] = yield page_request(row.listing_path(parent_id), rest, 0)
    if not is_empty_listing(page):
        return page
    if row.inline_in_parent:
        return (yield from _inline_page(row, parent_id, rest))
    for name in row.evidence:
        evidence = listing_resource(name)
        sample = yield page_request(evidence.path, {"limit": "1"}, 0)
        held = _count(sample)
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


def _inline_page(
    row: ListingResource, parent_id: str | None, params: Mapping[str, str]
) -> Plan[dict[str, Any]]:
    """The parent's inline relationship as a first page (``next`` kept); empty when it has none."""
    relationship = str(row.inline_in_parent)
    query = {"include": relationship}
    query.update({key: params[key] for key in ("extend", "l") if key in params})
    answer = yield Request("GET", row.parent_path(parent_id), query, expect_data=True, not_found="none")
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
