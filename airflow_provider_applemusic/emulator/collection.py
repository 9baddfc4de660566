"""Library items and the collections that list them in the service's order (by name, or as added)."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any

from airflow_provider_applemusic.emulator.kinds import EXTENDED_ATTRIBUTES, KINDS

_ARTICLES = ("the ", "a ", "an ")


def sort_key(name: str, album_id: str) -> tuple[str, str]:
    """The library's order: by name, case folded, leading article ignored; then by id."""
    folded = name.casefold()
    for article in _ARTICLES:
        if folded.startswith(article):
            folded = folded[len(article) :]
            break
    return (folded, album_id)


def iso_z(moment: dt.datetime) -> str:
    """``2022-08-06T02:18:57Z``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class LibraryItem:
    """One item of the emulated library (an album, song, artist, playlist or music video)."""

    library_id: str
    catalog_id: str | None
    attributes: dict[str, Any]
    hidden: bool = False
    type: str = "library-albums"
    #: when it was added (dated kinds), whatever ``dateAdded`` shows: orders ``recently-added``
    added: dt.datetime | None = None

    @property
    def href(self) -> str:
        """The item's own path, e.g. ``/v1/me/library/songs/i.AbC``."""
        return f"/v1/me/library/{KINDS[self.type].segment}/{self.library_id}"

    def resource(
        self, catalog: dict[str, Any] | None, extend: tuple[str, ...] = (), *, unlinked: bool = False
    ) -> dict[str, Any]:
        """
        The library resource, with the catalog resource inline when given (``unlinked``: an
        empty catalog relationship, for an item without catalog id); extended attributes
        (``dateAdded``) only when ``extend`` names them, like the service.
        """
        attributes = {
            name: value
            for name, value in self.attributes.items()
            if name not in EXTENDED_ATTRIBUTES or name in extend
        }
        href = self.href
        body: dict[str, Any] = {
            "id": self.library_id,
            "type": self.type,
            "href": href,
            "attributes": attributes,
        }
        if catalog is not None or unlinked:
            body["relationships"] = {
                "catalog": {"href": f"{href}/catalog", "data": [catalog] if catalog is not None else []}
            }
        return body


class Collection:
    """
    The items of one library listing and the order the service lists them in.

    ``by_name`` collections keep ``order`` sorted by :func:`sort_key`; bulk generation appends
    with ``sort=False`` and the order is sorted once, on first read. Other collections (a
    playlist's tracks) keep insertion order.
    """

    def __init__(self, resource: str, *, by_name: bool = True) -> None:
        self.resource = resource
        self.by_name = by_name
        self.items: dict[str, LibraryItem] = {}
        self._order: list[tuple[tuple[str, str], str]] = []
        self._unsorted = False
        #: items ever created in this collection: drives the hidden and dateAdded patterns
        self.created = 0
        #: bumped on every add and removal, so views built from the collection know to rebuild
        self.version = 0

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, library_id: object) -> bool:
        return library_id in self.items

    @property
    def order(self) -> list[tuple[tuple[str, str], str]]:
        """``(sort key, library id)`` of every item, hidden ones included, in listing order."""
        if self._unsorted:
            self._order.sort()
            self._unsorted = False
        return self._order

    def stored(self) -> list[tuple[tuple[str, str], str]]:
        """
        ``(sort key, library id)`` of every item in the order stored, not sorted yet while bulk
        generation appends: what generation samples by position, without sorting first.
        """
        return self._order

    def _entry(self, item: LibraryItem) -> tuple[tuple[str, str], str]:
        if not self.by_name:
            return (("", ""), item.library_id)
        return (sort_key(item.attributes["name"], item.library_id), item.library_id)

    def add(self, item: LibraryItem, *, sort: bool = True, as_added: str | None = None) -> None:
        """
        Add ``item`` in its place (``sort=False``: append now, sort once before the next read).
        ``as_added``: in a collection in insertion order (a playlist's tracks), the id the entry
        was added by when not the library id (a catalog song id): :meth:`added_ids`.
        """
        self.items[item.library_id] = item
        self.version += 1
        entry = self._entry(item)
        if as_added is not None and not self.by_name:
            entry = (("", as_added), item.library_id)
        if self.by_name and sort and not self._unsorted:
            bisect.insort(self._order, entry)
        else:
            self._order.append(entry)
            self._unsorted = self.by_name

    def remove(self, library_id: str) -> LibraryItem:
        """Take the item out; returns it."""
        item = self.items.pop(library_id)
        self.version += 1
        order = self.order
        if self.by_name:
            entry = self._entry(item)
            index = bisect.bisect_left(order, entry)
            if index < len(order) and order[index] == entry:
                del order[index]
        else:
            order[:] = [entry for entry in order if entry[1] != library_id]
        return item

    def window(self, offset: int, limit: int) -> list[LibraryItem]:
        """The items at ``offset`` .. ``offset + limit``, hidden ones included."""
        return [self.items[i] for _, i in self.order[offset : offset + limit]]

    def ordered(self) -> list[LibraryItem]:
        """Every item, hidden ones included, in listing order."""
        return [self.items[i] for _, i in self.order]

    def added_ids(self) -> list[str]:
        """Each entry's id as it was added (``as_added``, else the library id), in listing order."""
        if self.by_name:
            return [i for _, i in self.order]
        return [key[1] or i for key, i in self.order]

    def visible(self) -> list[LibraryItem]:
        """Every item a client can see, in listing order."""
        return [item for item in self.ordered() if not item.hidden]
