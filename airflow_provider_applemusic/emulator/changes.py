"""
The one way a listing changes, randomly or as a user would.

:func:`change` (random, while a listing is paged, or :meth:`AppleMusicEmulator.change_library`)
and :func:`apply_changes` (as a user would, now) both go through :func:`_edit`.

Each kind of listing says what adding and removing mean to it (an :class:`Editor`): a top-level
listing adds fresh or given catalog items and takes items out of the library; a playlist's
tracks take library songs in and out; ``recently-added`` adds albums now and takes entries out
of the library; the other histories put fresh entries at the front and drop entries.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from airflow_provider_applemusic.emulator.kinds import (
    HISTORIES,
    HISTORY_CAPS,
    KINDS,
    PLAYLIST_TRACKS,
    RECENTLY_ADDED,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

    from airflow_provider_applemusic.emulator.collection import Collection
    from airflow_provider_applemusic.emulator.library import Library


class Editor(Protocol):
    """What adding to and removing from one listing mean; ids are those the listing shows."""

    def add(self, add: int | Sequence[str], when: dt.datetime | None) -> list[str]:
        """Add ``add`` fresh entries (a count) or these catalog ids; their ids."""

    def pick(self, remove: int | Sequence[str], spare: Sequence[str]) -> list[str]:
        """The ids to remove: ``remove`` drawn among the visible ones but ``spare``, or these ids."""

    def drop(self, ids: Sequence[str]) -> None:
        """Take these ids out."""


def _count(value: int | Sequence[str]) -> int:
    """A count of entries: only a top-level listing takes ids."""
    if not isinstance(value, int):
        raise ValueError(f"give a count: only a top-level listing takes ids, got {value!r}")
    return value


def _sample(rng: random.Random, candidates: list[str], count: int) -> list[str]:
    return rng.sample(candidates, min(count, len(candidates)))


class _TopLevel:
    """A library listing (albums, songs, ...): its items enter and leave the library."""

    def __init__(self, library: Library, resource: str) -> None:
        self.library, self.resource = library, resource

    def add(self, add: int | Sequence[str], when: dt.datetime | None) -> list[str]:
        if isinstance(add, int):
            return [self.library.add_new(self.resource, when).library_id for _ in range(add)]
        kind = KINDS[self.resource].catalog_kind
        assert kind is not None
        return [self.library.add_item(kind, catalog_id, when) for catalog_id in add]

    def pick(self, remove: int | Sequence[str], spare: Sequence[str]) -> list[str]:
        if not isinstance(remove, int):
            return list(remove)
        visible = self.library.collections[self.resource].visible()
        return _sample(self.library.rng, [i.library_id for i in visible if i.library_id not in spare], remove)

    def drop(self, ids: Sequence[str]) -> None:
        for library_id in ids:
            self.library.remove_item(self.resource, library_id)


class _Tracks:
    """A playlist's tracks: library songs go in and out (a repeated song at every position)."""

    def __init__(self, library: Library, tracks: Collection) -> None:
        self.library, self.tracks = library, tracks

    def add(self, add: int | Sequence[str], when: dt.datetime | None) -> list[str]:
        songs = self.library.collections["library-songs"]
        candidates = [i for _, i in songs.order if i not in self.tracks]
        added = _sample(self.library.rng, candidates, _count(add))
        for library_id in added:
            self.tracks.add(songs.items[library_id])
        return added

    def pick(self, remove: int | Sequence[str], spare: Sequence[str]) -> list[str]:
        visible = dict.fromkeys(i.library_id for i in self.tracks.visible() if i.library_id not in spare)
        return _sample(self.library.rng, list(visible), _count(remove))

    def drop(self, ids: Sequence[str]) -> None:
        for library_id in ids:
            self.tracks.remove(library_id)


class _RecentlyAdded:
    """``recently-added``: albums added now lead it; entries removed leave the library."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def add(self, add: int | Sequence[str], when: dt.datetime | None) -> list[str]:
        now = dt.datetime.now(dt.timezone.utc)
        return [self.library.add_recent_album(now).library_id for _ in range(_count(add))]

    def pick(self, remove: int | Sequence[str], spare: Sequence[str]) -> list[str]:
        visible = self.library.history.view(RECENTLY_ADDED).visible()
        return _sample(
            self.library.rng, [i.library_id for i in visible if i.library_id not in spare], _count(remove)
        )

    def drop(self, ids: Sequence[str]) -> None:
        albums = self.library.collections["library-albums"]
        for library_id in ids:
            self.library.remove_item(
                "library-albums" if library_id in albums else "library-playlists", library_id
            )


class _History:
    """A history of entries (plays, heavy rotation, recent resources): fresh ones go to the front."""

    def __init__(self, library: Library, resource: str) -> None:
        self.history, self.resource = library.history, resource

    def add(self, add: int | Sequence[str], when: dt.datetime | None) -> list[str]:
        drawn = (self.history.fresh_entry(self.resource) for _ in range(_count(add)))
        fresh = [entry for entry in drawn if entry is not None]
        self.history.entries(self.resource)[:0] = fresh
        return [entry[1] for entry in fresh]

    def pick(self, remove: int | Sequence[str], spare: Sequence[str]) -> list[str]:
        visible = {i.library_id for i in self.history.view(self.resource).visible()}
        entries = self.history.entries(self.resource)
        candidates = [e[1] for e in entries if e[1] not in spare and e[1] in visible]
        return _sample(self.history.rng, candidates, _count(remove))

    def drop(self, ids: Sequence[str]) -> None:
        entries = self.history.entries(self.resource)
        entries[:] = [e for e in entries if e[1] not in ids][: HISTORY_CAPS[self.resource]]


def _edit(
    editor: Editor,
    add: int | Sequence[str],
    remove: int | Sequence[str],
    when: dt.datetime | None,
    *,
    remove_first: bool,
) -> tuple[list[str], list[str]]:
    """
    Change one listing: add, then remove among the entries that were there (``remove_first``:
    choose what to remove before adding, as a user does); returns the added and removed ids.
    """
    doomed = editor.pick(remove, ()) if remove_first else []
    added = editor.add(add, when)
    if not remove_first:
        doomed = editor.pick(remove, added)
    editor.drop(doomed)
    return added, doomed


def _editor(library: Library, resource: str, parent_id: str | None) -> Editor:
    if resource == PLAYLIST_TRACKS:
        return _Tracks(library, library.tracks[str(parent_id)])
    if resource == RECENTLY_ADDED:
        return _RecentlyAdded(library)
    if resource in HISTORIES:
        return _History(library, resource)
    return _TopLevel(library, resource)


def change(
    library: Library, resource: str, add: int, remove: int, parent_id: str | None = None
) -> tuple[list[str], list[str]]:
    """
    Add ``add`` fresh entries to any listing (``parent_id``: the playlist, for its tracks) and
    remove ``remove`` visible ones drawn from the seed; their ids.
    """
    return _edit(_editor(library, resource, parent_id), add, remove, None, remove_first=False)


def apply_changes(
    library: Library,
    resource: str,
    add: int | Sequence[str],
    remove: int | Sequence[str],
    when: dt.datetime,
) -> tuple[list[str], list[str]]:
    """
    What a user does in the Music app to a top-level listing: add items now (``add``: how many
    fresh catalog items, or which catalog ids) and remove items (``remove``: how many visible
    ones, or which library ids). Additions are dated ``when``, so albums and playlists lead
    ``recently-added``. Checked first: a refused change changes nothing. Returns the added and
    the removed library ids.
    """
    kind = KINDS.get(resource)
    if kind is None:
        raise ValueError(f"resource must be one of {', '.join(KINDS)}, got {resource!r}")
    for name, value in (("add", add), ("remove", remove)):
        is_ids = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        if isinstance(value, bool) or not (isinstance(value, int) or is_ids):
            raise ValueError(f"{name} must be a count or a list of ids, got {value!r}")
    if isinstance(remove, int):
        if remove < 0:
            raise ValueError(f"remove must be 0 or more, got {remove}")
    else:
        unknown = [library_id for library_id in remove if library_id not in library.collections[resource]]
        if unknown:
            raise ValueError(f"remove: not in {resource}: {', '.join(unknown)}")
    if isinstance(add, int):
        if add < 0:
            raise ValueError(f"add must be 0 or more, got {add}")
    else:
        if kind.catalog_kind is None:
            raise ValueError(f"add: {resource} has no catalog ids; give a count")
        unknown = [cid for cid in add if cid not in library.catalog.items[kind.catalog_kind]]
        if unknown:
            raise ValueError(f"add: unknown catalog {kind.catalog_kind}: {', '.join(unknown)}")
    return _edit(_TopLevel(library, resource), add, remove, when, remove_first=True)
