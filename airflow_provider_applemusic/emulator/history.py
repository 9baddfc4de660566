"""
A user's histories (recently added, played, heavy rotation), as the views their listings page.

``recently-added``, ``recent/played/tracks``, ``heavy-rotation`` and ``recent/played`` page
through views, newest first, each a short list.

``recently-added`` is built from the library (albums and playlists by the moment they were
added, the newest :data:`~airflow_provider_applemusic.emulator.kinds.HISTORY_CAPS`
``[recently-added]``); the others are lists of ``(type, id)`` entries drawn from the seed with
generators of their own (:attr:`History.rng` and two more), never from the library's, so the
library a seed gives does not depend on them: the play history (catalog and library songs and
catalog music videos, see :meth:`History.play`), heavy rotation (catalog albums and playlists)
and the recently played resources (catalog albums, playlists and stations).
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from typing import TYPE_CHECKING

from airflow_provider_applemusic.emulator.catalog import ADDED_EPOCH
from airflow_provider_applemusic.emulator.collection import Collection, LibraryItem
from airflow_provider_applemusic.emulator.kinds import (
    HEAVY_ROTATION,
    HISTORY_CAPS,
    RECENTLY_ADDED,
    RECENTLY_PLAYED,
    RECENTLY_PLAYED_RESOURCES,
)

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator.catalog import Catalog

#: about 1 play in 12 of the generated play history is a music video
PLAYED_VIDEO_SHARE = 1 / 12
#: the moment an item added at no known moment counts as added, for ``recently-added``
_LONG_AGO = ADDED_EPOCH - dt.timedelta(days=36500)


class History:
    """The histories of one user's library; not thread-safe (the server locks)."""

    def __init__(self, seed: int, catalog: Catalog, collections: dict[str, Collection]) -> None:
        self.seed = seed
        self.catalog = catalog
        self.collections = collections
        #: the play history, newest first: ``(type, id)``, ``songs`` (catalog id),
        #: ``library-songs`` or ``music-videos``
        self.played: list[tuple[str, str]] = []
        #: heavy rotation, most played first: ``(type, catalog id)``, ``albums`` or ``playlists``
        self.rotation: list[tuple[str, str]] = []
        #: ``recent/played``, newest first: ``(type, catalog id)``, ``albums``, ``playlists`` or
        #: ``stations``
        self.recent: list[tuple[str, str]] = []
        #: draws the histories, apart from the library's generator
        self.rng = random.Random(f"history:{seed}")
        self._recently_added: tuple[tuple[int, int], Collection] | None = None
        #: every play made through :meth:`play`, oldest first: ``(at, type, id)``, the ground
        #: truth the service does not give (the generated history has no play times)
        self.log: list[tuple[dt.datetime, str, str]] = []
        #: the last two different orders of the play history a read has shown, older first
        self._shown: list[list[tuple[str, str]]] = []
        #: the order the current read of the play history shows (None: the current history)
        self._read: list[tuple[str, str]] | None = None

    def populate(self, played: int = 30, heavy_rotation: int = 12) -> None:
        """
        Generate the play history (``played`` plays, capped at 50: about one in four a library
        song, about one in 12 a catalog music video, the rest catalog songs, no repeats), heavy
        rotation (``heavy_rotation`` catalog albums and playlists, capped at 20) and the
        recently played resources (as many as the plays, capped at 50: catalog albums,
        playlists and stations), from the seed alone.
        """
        cap = min(played, HISTORY_CAPS[RECENTLY_PLAYED])
        songs = []
        for _ in range(cap):
            entry = self.fresh_entry(RECENTLY_PLAYED)
            if entry is None:
                break
            songs.append(entry)
            self.played.append(entry)
        for _ in range(min(heavy_rotation, HISTORY_CAPS[HEAVY_ROTATION])):
            entry = self.fresh_entry(HEAVY_ROTATION)
            if entry is None:
                break
            self.rotation.append(entry)
        # music videos and the recently played resources have generators of their own: the
        # songs and heavy rotation a seed gives stay as they were
        videos = random.Random(f"played-videos:{self.seed}")
        catalog_videos = list(self.catalog.items["music-videos"])
        mixed: list[tuple[str, str]] = []
        for entry in songs:
            if catalog_videos and videos.random() < PLAYED_VIDEO_SHARE:
                video = ("music-videos", videos.choice(catalog_videos))
                if video not in mixed:
                    mixed.append(video)
            mixed.append(entry)
        self.played = mixed[:cap]
        recent = random.Random(f"recent:{self.seed}")
        for _ in range(min(played, HISTORY_CAPS[RECENTLY_PLAYED_RESOURCES])):
            entry = self.fresh_entry(RECENTLY_PLAYED_RESOURCES, recent)
            if entry is None:
                break
            self.recent.append(entry)

    def entries(self, resource: str) -> list[tuple[str, str]]:
        """The ``(type, id)`` entries of a history other than recently-added, newest first."""
        if resource == RECENTLY_PLAYED:
            return self.played
        if resource == HEAVY_ROTATION:
            return self.rotation
        return self.recent

    def fresh_entry(self, resource: str, rng: random.Random | None = None) -> tuple[str, str] | None:
        """A ``(type, id)`` not yet in the history, drawn with ``rng`` (default :attr:`rng`)."""
        rng = rng or self.rng
        catalog = self.catalog.items
        present = set(self.entries(resource))
        for _ in range(50):
            if resource == RECENTLY_PLAYED:
                songs = self.collections["library-songs"]
                if len(songs) and rng.random() < 0.25:
                    entry = ("library-songs", songs.order[rng.randrange(len(songs))][1])
                elif catalog["songs"]:
                    entry = ("songs", rng.choice(list(catalog["songs"])))
                else:
                    return None
            elif resource == RECENTLY_PLAYED_RESOURCES and rng.random() < 0.2:
                entry = ("stations", self.catalog.make_station(rng))
            else:
                kind = "albums" if rng.random() < 0.6 or not catalog["playlists"] else "playlists"
                if not catalog[kind]:
                    return None
                entry = (kind, rng.choice(list(catalog[kind])))
            if entry not in present:
                return entry
        return None

    def kind_of(self, item_id: str) -> str:
        """
        The kind of a played id: ``library-songs`` for a library song (``i.``), else ``songs``
        or ``music-videos``, whichever the catalog resolves (a ValueError when neither does).
        """
        if item_id in self.collections["library-songs"]:
            return "library-songs"
        for kind in ("songs", "music-videos"):
            if self.catalog.resolves(kind, item_id):
                return kind
        raise ValueError(f"no song or music video {item_id!r} (a catalog id, or a library song id i.…)")

    def play(self, kind: str, item_id: str, at: dt.datetime) -> None:
        """
        Put a song (or music video) at the front of the play history (moving it there when
        already in it); the history keeps its newest 50. The play is logged with ``at``.

        :param kind: ``songs`` (``item_id`` a catalog id), ``library-songs`` (a library id) or
            ``music-videos`` (a catalog id).
        :param at: when it was played (aware); not before the last logged play.
        """
        if kind in ("songs", "music-videos"):
            known = self.catalog.resolves(kind, item_id)
        elif kind == "library-songs":
            known = item_id in self.collections["library-songs"]
        else:
            raise ValueError(f"kind must be songs, library-songs or music-videos, got {kind!r}")
        if not known:
            raise ValueError(f"no {kind} {item_id!r}")
        if at.tzinfo is None:
            raise ValueError(f"at must be an aware datetime, got {at!r}")
        if self.log and at < self.log[-1][0]:
            last = self.log[-1][0].isoformat()
            raise ValueError(f"at must not be before the last play ({last}), got {at.isoformat()}")
        entry = (kind, item_id)
        self.played = [entry, *(e for e in self.played if e != entry)][: HISTORY_CAPS[RECENTLY_PLAYED]]
        self.log.append((at, kind, item_id))

    def duration_ms(self, kind: str, item_id: str) -> int:
        """How long a song or music video lasts (milliseconds; 4 minutes when not known)."""
        if kind == "library-songs":
            attributes = self.collections[kind].items[item_id].attributes
        else:
            attributes = self.catalog.items[kind][item_id]
        duration = attributes.get("durationInMillis")
        return duration if isinstance(duration, int) and duration > 0 else 240_000

    def begin_read(self, stale: bool) -> None:
        """
        A read of the play history begins (a page at offset 0; the pages after it follow it):
        it shows the current order, or, when ``stale``, the order shown before the last order
        a read showed (a lagging replica's answer), when there is one.
        """
        current = list(self.played)
        if stale and len(self._shown) == 2:
            self._read = self._shown[0]
            return
        self._read = None
        if not self._shown or self._shown[-1] != current:
            self._shown = [*self._shown, current][-2:]

    def view(self, resource: str, as_read: bool = False) -> Collection:
        """
        The view a history listing pages: newest first, at most ``HISTORY_CAPS[resource]``;
        ``as_read``: the play history as the current read shows it (:meth:`begin_read`).
        """
        if resource == RECENTLY_ADDED:
            return self._recently_added_view()
        view = Collection(resource, by_name=False)
        stale = as_read and resource == RECENTLY_PLAYED and self._read is not None
        entries = self._read if stale and self._read is not None else self.entries(resource)
        for kind, item_id in entries:
            if kind == "library-songs":
                song = self.collections[kind].items.get(item_id)
                if song is not None:  # a song taken out of the library leaves the history
                    view.add(song)
            elif item_id in self.catalog.items[kind]:
                # a catalog entry, rendered as its catalog resource
                view.add(LibraryItem(item_id, item_id, self.catalog.items[kind][item_id], type=kind))
        return view

    def _recently_added_view(self) -> Collection:
        """Library albums and playlists by the moment added, newest first; rebuilt when either changes."""
        albums, playlists = self.collections["library-albums"], self.collections["library-playlists"]
        version = (albums.version, playlists.version)
        if self._recently_added is None or self._recently_added[0] != version:
            newest = heapq.nlargest(
                HISTORY_CAPS[RECENTLY_ADDED],
                (*albums.items.values(), *playlists.items.values()),
                key=lambda item: (item.added or _LONG_AGO, item.library_id),
            )
            view = Collection(RECENTLY_ADDED, by_name=False)
            for item in newest:
                view.add(item)
            self._recently_added = (version, view)
        return self._recently_added[1]
