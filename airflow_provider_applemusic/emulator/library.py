"""
One user's emulated library: its items, generated from a seed, and the one way an item enters it.

One :class:`~airflow_provider_applemusic.emulator.collection.Collection` per library listing
(albums, songs, artists, playlists, music videos, and each playlist's tracks) holds its items in
the order the service lists them. :class:`Library` keeps ``in_library`` (catalog id to library
id) in step with the collections. Every item enters through :meth:`Library._enter` (dated,
counted for the hidden pattern, listed, linked to its catalog id): generation, catalog ids added
(:meth:`Library.add_item`), fresh items (:meth:`Library.add_new`), playlists made
(:meth:`Library.make_playlist`) or created through the API (:meth:`Library.create_playlist`,
unlisted until :meth:`Library.publish_playlist`). Listings change through
:mod:`airflow_provider_applemusic.emulator.changes`.

A playlist's tracks can hold one library song at several positions (``playlist_repeats``,
:meth:`Library.make_playlist`). What time does to a real library (:meth:`Library._age`): some
generated songs lose their ``playParams`` and catalog link, and some albums, songs and music
videos point at catalog ids the catalog no longer resolves. Those quirks, repeats, artists'
``dateAdded`` and the playlists' reported attributes come from generators of their own or from
counts, never from the library's random generator, so a seed gives the same library ids and
names as before they existed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.catalog import (
    ADDED_EPOCH,
    ADDED_SPAN_SECONDS,
    ADJECTIVES,
    ARTISTS,
    BASE62,
    GENRES,
    NOUNS,
    Catalog,
    album_name,
    title,
)
from airflow_provider_applemusic.emulator.collection import Collection, LibraryItem, iso_z
from airflow_provider_applemusic.emulator.history import History
from airflow_provider_applemusic.emulator.kinds import (
    CATALOG_TYPES,
    HISTORIES,
    KINDS,
    LIBRARY_TYPE,
    PLAYLIST_TRACKS,
)
from airflow_provider_applemusic.emulator.ratings import Ratings

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: every Nth library song is an upload (no catalog id): about 5 %
UPLOAD_EVERY = 20
#: in a generated playlist of 3 tracks or more, about 1 entry in 15 repeats a song earlier in it
PLAYLIST_REPEAT_SHARE = 1 / 15
#: every Nth library playlist was created by the app (``canEdit``, no catalog id)
APP_PLAYLIST_EVERY = 4
#: every Nth library playlist (from the second) has no tracks
EMPTY_PLAYLIST_EVERY = 3
#: catalog items of each type generated beyond those in the library (plus a tenth of the library)
_CATALOG_EXTRAS = {"albums": 100, "songs": 180, "playlists": 45, "music-videos": 45}


@dataclass
class Library:
    """The emulated catalog and one user's library; not thread-safe (the server locks)."""

    seed: int
    hidden_every: int = 0
    #: average tracks per playlist (every third playlist has none)
    playlist_tracks: int = 8
    #: generated playlists of 3 tracks or more hold some songs at several positions
    playlist_repeats: bool = True
    #: every Nth generated library song that is not an upload has no ``playParams`` (0: none)
    songs_without_play_params_every: int = 0
    #: every Nth generated library album, song and music video with a catalog id points at a
    #: catalog id the catalog no longer resolves (0: none)
    withdrawn_every: int = 0
    catalog: Catalog = field(init=False)
    in_library: dict[str, dict[str, str]] = field(init=False)
    collections: dict[str, Collection] = field(init=False)
    #: each library playlist's tracks (library songs, playlist order), by playlist id
    tracks: dict[str, Collection] = field(init=False)
    #: playlists the app created through the API, in creation order (published or not)
    created: list[LibraryItem] = field(init=False)
    #: ids of created playlists not yet in the listings (nor reachable by id)
    unpublished: set[str] = field(init=False)
    history: History = field(init=False)
    ratings: Ratings = field(init=False)
    #: generated items counted for ``songs_without_play_params_every`` and ``withdrawn_every``
    _aged: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = Catalog(self.seed)
        self.in_library = {kind: {} for kind in CATALOG_TYPES}
        self.collections = {resource: Collection(resource) for resource in KINDS}
        self.tracks = {}
        self.created = []
        self.unpublished = set()
        self.history = History(self.seed, self.catalog, self.collections)
        self.ratings = Ratings(self.catalog, self.collections, self.in_library)
        self._aged = {}

    @property
    def rng(self) -> random.Random:
        """The generator the catalog and the library a seed gives are drawn from."""
        return self.catalog.rng

    def populate(
        self, albums: int, songs: int = 20, artists: int = 10, playlists: int = 5, music_videos: int = 5
    ) -> None:
        """
        Fill the catalog and the library: ``albums`` library albums, ``songs`` library songs
        (every 20th an upload), ``artists``, ``playlists`` (every 4th made by the app, every
        3rd without tracks) and ``music_videos``, plus catalog items not in the library.
        Items are appended and each listing sorted once, so large libraries build fast.
        """
        for _ in range(albums):
            self.add_new("library-albums", sort=False)
        for _ in range(_CATALOG_EXTRAS["albums"] + albums // 10):
            self.catalog.make_album()
        for resource, count in (
            ("library-songs", songs),
            ("library-artists", artists),
            ("library-music-videos", music_videos),
            ("library-playlists", playlists),  # last: playlists take their tracks from the songs
        ):
            for _ in range(count):
                self.add_new(resource, sort=False)
            kind = KINDS[resource].catalog_kind
            if kind is not None:
                for _ in range(_CATALOG_EXTRAS[kind] + count // 10):
                    self.catalog.make_item(kind)

    # -- the one way an item enters the library ------------------------------------------

    def _enter(
        self,
        resource: str,
        library_id: str,
        attributes: dict[str, Any],
        *,
        catalog_id: str | None = None,
        when: dt.datetime | None = None,
        sort: bool = True,
        shown: bool = False,
        listed: bool = True,
    ) -> LibraryItem:
        """
        Make an item of ``resource`` and put it in its listing: added ``when`` (None: a moment
        of :data:`ADDED_EPOCH`'s year, drawn from ``rng`` for kinds with a catalog, from a
        generator of its own for artists), ``dateAdded`` as the service shows it (sometimes a
        bare date, none on very old items, never on music videos), hidden every
        ``hidden_every`` th item of the listing unless ``shown``; ``sort=False`` appends (bulk
        generation sorts once), ``listed=False`` leaves it out until :meth:`_list`.
        """
        collection = self.collections[resource]
        index = collection.created
        kind = KINDS[resource]
        if when is None:
            rng = self.rng if kind.catalog_kind else random.Random(f"added:{self.seed}:{resource}:{index}")
            when = ADDED_EPOCH + dt.timedelta(seconds=rng.randrange(ADDED_SPAN_SECONDS))
        if kind.dated:
            if index % 13 == 12 and index % 17 != 16:
                attributes["dateAdded"] = when.date().isoformat()  # sometimes a bare date
            elif index % 17 != 16:  # very old items have none
                attributes["dateAdded"] = iso_z(when)
        collection.created += 1
        hidden = not shown and bool(self.hidden_every) and index % self.hidden_every == self.hidden_every - 1
        item = LibraryItem(library_id, catalog_id, attributes, hidden, resource, when)
        if listed:
            self._list(item, sort)
        return item

    def _list(self, item: LibraryItem, sort: bool = True) -> None:
        """Put a made item into its listing and link its catalog id to it."""
        self.collections[item.type].add(item, sort=sort)
        kind = KINDS[item.type].catalog_kind
        if kind is not None and item.catalog_id is not None:
            self.in_library[kind][item.catalog_id] = item.library_id

    def add_item(
        self, kind: str, catalog_id: str, when: dt.datetime | None = None, *, sort: bool = True
    ) -> str:
        """Put a catalog resource of any type into the library (once); return its library id."""
        if catalog_id in self.in_library[kind]:
            return self.in_library[kind][catalog_id]
        if kind == "albums":
            return self._add_album(catalog_id, when, sort).library_id
        if kind == "songs":
            return self._add_song(catalog_id, when, sort).library_id
        source = self.catalog.items[kind][catalog_id]
        if kind == "playlists":
            library_id = self.catalog.new_fast_id("p.", 14)
            description = source.get("description", {}).get("standard")
            attributes = self._playlist_attributes(
                library_id, source["name"], description, can_edit=False, catalog_id=catalog_id
            )
            return self._add_playlist(
                library_id, attributes, catalog_id=catalog_id, when=when, sort=sort
            ).library_id
        library_id = self.catalog.new_fast_id(KINDS[LIBRARY_TYPE[kind]].prefix, 12)
        attributes = {
            "name": source["name"],
            "artistName": source["artistName"],
            "durationInMillis": source["durationInMillis"],
            "genreNames": list(source["genreNames"]),
            "playParams": {
                "id": library_id,
                "kind": "musicVideo",
                "isLibrary": True,
                "catalogId": catalog_id,
            },
        }
        return self._enter(
            LIBRARY_TYPE[kind], library_id, attributes, catalog_id=catalog_id, when=when, sort=sort
        ).library_id

    def add_new(self, resource: str, when: dt.datetime | None = None, *, sort: bool = True) -> LibraryItem:
        """
        Add a fresh item to ``resource``'s collection (a new catalog item when it has one: every
        20th song an upload, every 4th playlist made by the app), added ``when`` (None: the
        seeded way), aged like a generated item (:meth:`_age`).
        """
        created = self.collections[resource].created
        if resource == "library-albums":
            return self._age(self._add_album(self.catalog.make_album(), when, sort))
        if resource == "library-artists":
            return self._add_artist(when, sort)
        if resource == "library-songs" and created % UPLOAD_EVERY == UPLOAD_EVERY - 1:
            return self._add_song(None, when, sort)
        if resource == "library-playlists" and created % APP_PLAYLIST_EVERY == APP_PLAYLIST_EVERY - 1:
            library_id = self.catalog.new_fast_id("p.", 14)
            attributes = self._playlist_attributes(
                library_id, title(self.rng), "Made by the app.", can_edit=True
            )
            return self._add_playlist(library_id, attributes, when=when, sort=sort)
        kind = KINDS[resource].catalog_kind
        if kind is None:
            raise ValueError(f"{resource} has no catalog to add from")
        library_id = self.add_item(kind, self.catalog.make_item(kind), when, sort=sort)
        return self._age(self.collections[resource].items[library_id])

    def add_recent_album(self, when: dt.datetime) -> LibraryItem:
        """A fresh album added ``when``, as ``recently-added``'s changes add them (not aged)."""
        return self._add_album(self.catalog.make_album(), when, True)

    def remove_item(self, resource: str, library_id: str) -> None:
        """Take an item out of the library (re-adding it later gives a new library id)."""
        item = self.collections[resource].remove(library_id)
        kind = KINDS[resource].catalog_kind
        if kind is not None and item.catalog_id is not None:
            if self.in_library[kind].get(item.catalog_id) == library_id:
                del self.in_library[kind][item.catalog_id]
        if resource == "library-songs":  # a song leaves the library: it leaves its playlists
            for tracks in self.tracks.values():
                if library_id in tracks:
                    tracks.remove(library_id)
        elif resource == "library-playlists":
            self.tracks.pop(library_id, None)

    # -- each kind's attributes ----------------------------------------------------------

    def _add_album(self, catalog_id: str, when: dt.datetime | None, sort: bool) -> LibraryItem:
        source = self.catalog.items["albums"][catalog_id]
        library_id = self.catalog.new_id("l.", BASE62, 7)
        attributes: dict[str, Any] = {
            "artistName": source["artistName"],
            "name": source["name"],
            "trackCount": source["trackCount"],
            "genreNames": list(source["genreNames"]),
            "playParams": {"id": library_id, "kind": "album", "isLibrary": True},
            "releaseDate": source["releaseDate"],
        }
        for optional in ("artwork", "contentRating"):
            if optional in source:
                attributes[optional] = source[optional]
        return self._enter(
            "library-albums", library_id, attributes, catalog_id=catalog_id, when=when, sort=sort
        )

    def _add_song(self, catalog_id: str | None, when: dt.datetime | None, sort: bool) -> LibraryItem:
        """A catalog song, or (``catalog_id`` None) a song the user uploaded: not in the catalog."""
        rng = self.rng
        library_id = self.catalog.new_fast_id("i.", 12)
        if catalog_id is not None:
            source = self.catalog.items["songs"][catalog_id]
        else:
            source = {
                "name": title(rng),
                "artistName": rng.choice(ARTISTS),
                "albumName": album_name(rng),
                "durationInMillis": rng.randint(60_000, 600_000),
                "trackNumber": rng.randint(1, 16),
                "genreNames": [rng.choice(GENRES)],
            }
        play_params: dict[str, Any] = {"id": library_id, "kind": "song", "isLibrary": True}
        if catalog_id is not None:
            play_params["catalogId"] = catalog_id
        attributes = {
            "name": source["name"],
            "artistName": source["artistName"],
            "albumName": source["albumName"],
            "durationInMillis": source["durationInMillis"],
            "trackNumber": source["trackNumber"],
            "genreNames": list(source["genreNames"]),
            "playParams": play_params,
        }
        return self._enter(
            "library-songs", library_id, attributes, catalog_id=catalog_id, when=when, sort=sort
        )

    def _add_artist(self, when: dt.datetime | None, sort: bool) -> LibraryItem:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            name = rng.choice(ARTISTS)
        elif roll < 0.5:
            name = f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        else:
            name = title(rng)
        library_id = self.catalog.new_fast_id("r.", 7)
        return self._enter("library-artists", library_id, {"name": name}, when=when, sort=sort)

    def _age(self, item: LibraryItem) -> LibraryItem:
        """
        What time does to a generated album, song or music video with a catalog id: every
        ``songs_without_play_params_every`` th song loses ``playParams`` and its catalog link
        (removed from the service; some also lose ``artistName`` or ``albumName``); every
        ``withdrawn_every`` th item left with a catalog id keeps pointing at it, but the catalog
        no longer resolves it. Counted apart from ``rng``: the library a seed gives stays as it was.
        """
        kind = KINDS[item.type].catalog_kind
        if item.catalog_id is None or kind not in ("albums", "songs", "music-videos"):
            return item
        every = self.songs_without_play_params_every
        if kind == "songs" and every:
            index = self._aged.get("no-play-params", 0)
            self._aged["no-play-params"] = index + 1
            if index % every == every - 1:
                if self.in_library["songs"].get(item.catalog_id) == item.library_id:
                    del self.in_library["songs"][item.catalog_id]
                item.catalog_id = None
                del item.attributes["playParams"]
                nth = index // every
                if nth % 2 == 1:
                    item.attributes.pop("artistName", None)
                if nth % 3 == 2:
                    item.attributes.pop("albumName", None)
                return item
        if self.withdrawn_every:
            index = self._aged.get(kind, 0)
            self._aged[kind] = index + 1
            if index % self.withdrawn_every == self.withdrawn_every - 1:
                self.catalog.withdrawn[kind].add(item.catalog_id)
        return item

    # -- playlists -----------------------------------------------------------------------

    def _add_playlist(
        self,
        library_id: str,
        attributes: dict[str, Any],
        *,
        catalog_id: str | None = None,
        when: dt.datetime | None = None,
        sort: bool = True,
        songs: Sequence[LibraryItem] | None = None,
        unlisted: bool = False,
    ) -> LibraryItem:
        """
        A playlist enters the library with its tracks: ``songs`` None, a generated one (the
        hidden pattern applies, tracks drawn by :meth:`_fill_playlist`, changed some time after
        it was added unless added ``when`` given); else one made by a caller, never hidden,
        holding exactly ``songs``, last changed when added. ``unlisted``: out of the listings
        until :meth:`publish_playlist`.
        """
        made = songs is not None
        item = self._enter(
            "library-playlists",
            library_id,
            attributes,
            catalog_id=catalog_id,
            when=when,
            sort=sort,
            shown=made,
            listed=not unlisted,
        )
        assert item.added is not None
        days = random.Random(f"modified:{self.seed}:{library_id}").uniform(0, 400)
        later = not made and when is None
        self._touch(item, item.added + dt.timedelta(days=days) if later else item.added)
        tracks = Collection(PLAYLIST_TRACKS, by_name=False)
        self.tracks[library_id] = tracks
        if songs is None:
            self._fill_playlist(library_id, tracks)
        for song in songs or ():
            tracks.add(song)
        return item

    def _fill_playlist(self, library_id: str, tracks: Collection) -> None:
        """Give a generated playlist its tracks: library songs, in an order of their own."""
        index = self.collections["library-playlists"].created - 1
        songs = self.collections["library-songs"]
        if not self.playlist_tracks or index % EMPTY_PLAYLIST_EVERY == 1 or not len(songs):
            return
        count = self.rng.randint(1, max(1, 3 * self.playlist_tracks - 1))
        stored = songs.stored()  # sampled by position: no need to sort first
        positions = self.rng.sample(range(len(stored)), min(count, len(stored)))
        picked = [songs.items[stored[p][1]] for p in positions]
        # users add songs again: some entries repeat an earlier one (drawn apart from ``rng``)
        repeats = random.Random(f"repeats:{self.seed}:{library_id}")
        odds = PLAYLIST_REPEAT_SHARE / (1 - PLAYLIST_REPEAT_SHARE)
        entries: list[LibraryItem] = []
        for song in picked:
            if self.playlist_repeats and len(picked) >= 3 and entries and repeats.random() < odds:
                entries.append(repeats.choice(entries))
            entries.append(song)
        for song in entries:
            tracks.add(song)

    def _playlist_attributes(
        self,
        library_id: str,
        name: str,
        description: str | None,
        *,
        can_edit: bool,
        catalog_id: str | None = None,
        shared: bool | None = None,
    ) -> dict[str, Any]:
        """
        A library playlist's attributes as the service reports them: ``canEdit``,
        ``canDelete``, ``isPublic``, ``hasCollaboration``, ``hasCatalog``,
        ``description.standard`` (when described), ``playParams`` (``globalId`` for a playlist
        ever shared, ``pl.u-…``; ``versionHash`` is added when rendered), no track count.
        ``lastModifiedDate`` is set by :meth:`_touch`. The flags are drawn from the library id,
        not from ``rng``: the library a seed gives stays as it was.

        :param catalog_id: the catalog playlist it was added from (``hasCatalog``; a
            user-shared one, ``pl.u-…``, is its ``globalId``).
        :param shared: the user published it (None: about one in three of those the user
            made, from the id).
        """
        rng = random.Random(f"playlist:{self.seed}:{library_id}")
        play_params: dict[str, Any] = {"id": library_id, "kind": "playlist", "isLibrary": True}
        if catalog_id is not None:
            shared = False
            if catalog_id.startswith("pl.u-"):
                play_params["globalId"] = catalog_id
        else:
            if shared is None:
                shared = rng.random() < 1 / 3
            if shared:
                play_params["globalId"] = "pl.u-" + "".join(rng.choice(BASE62) for _ in range(14))
        attributes: dict[str, Any] = {
            "name": name,
            "canEdit": can_edit,
            "canDelete": True,
            "isPublic": bool(shared),
            "hasCollaboration": bool(shared) and rng.random() < 0.25,
            "hasCatalog": catalog_id is not None,
            "playParams": play_params,
        }
        if description is not None:
            attributes["description"] = {"standard": description}
        return attributes

    @staticmethod
    def _touch(playlist: LibraryItem, when: dt.datetime) -> None:
        """Set a playlist's ``lastModifiedDate`` (never before it was added)."""
        if playlist.added is not None and when < playlist.added:
            when = playlist.added
        playlist.attributes["lastModifiedDate"] = iso_z(when)

    def create_playlist(
        self, name: str, description: str | None, when: dt.datetime, *, public: bool = False
    ) -> LibraryItem:
        """
        A playlist the app creates through the API (``canEdit``, no catalog id, never hidden):
        unpublished, so out of every listing, until :meth:`publish_playlist`. Its tracks
        collection exists at once (empty). ``public``: published (``isPublic``, a ``globalId``).
        """
        library_id = self.catalog.new_fast_id("p.", 14)
        attributes = self._playlist_attributes(library_id, name, description, can_edit=True, shared=public)
        item = self._add_playlist(library_id, attributes, when=when, songs=(), unlisted=True)
        self.created.append(item)
        self.unpublished.add(library_id)
        return item

    def make_playlist(self, song_ids: Sequence[str], name: str, *, can_edit: bool = True) -> LibraryItem:
        """
        A visible library playlist (never hidden, no catalog id) holding exactly these library
        song ids in this order, repeats kept; ``can_edit``: made by the app, else by the user
        in the Music app. Unknown ids raise ValueError and nothing is made.
        """
        songs = self.collections["library-songs"]
        unknown = [song_id for song_id in song_ids if song_id not in songs]
        if unknown:
            raise ValueError(f"not in library-songs: {', '.join(dict.fromkeys(unknown))}")
        library_id = self.catalog.new_fast_id("p.", 14)
        attributes = self._playlist_attributes(library_id, name, None, can_edit=can_edit)
        return self._add_playlist(library_id, attributes, songs=[songs.items[i] for i in song_ids])

    def publish_playlist(self, library_id: str) -> None:
        """Put a created playlist into the listings (it appears, reachable by id)."""
        if library_id in self.unpublished:
            self.unpublished.discard(library_id)
            self._list(next(i for i in self.created if i.library_id == library_id))

    def append_tracks(
        self, library_id: str, songs: Iterable[tuple[str, str]], when: dt.datetime
    ) -> list[str]:
        """
        Append songs to a playlist, in order, duplicates kept; catalog songs not in the library
        are added to it first. ``songs``: ``(type, id)``, ``songs`` (a catalog id) or
        ``library-songs`` (a library id); unknown ids are skipped. Returns the library song ids
        appended.
        """
        tracks = self.tracks[library_id]
        library_songs = self.collections["library-songs"]
        appended = []
        for kind, song_id in songs:
            as_added = None
            if kind == "songs":
                if not self.catalog.resolves("songs", song_id):
                    continue
                as_added, song_id = song_id, self.add_item("songs", song_id, when)
            elif song_id not in library_songs:
                continue
            tracks.add(library_songs.items[song_id], as_added=as_added)
            appended.append(song_id)
        if appended:
            playlist = next((i for i in self.created if i.library_id == library_id), None)
            playlist = playlist or self.collections["library-playlists"].items.get(library_id)
            if playlist is not None:
                self._touch(playlist, when)
        return appended

    def listing(self, resource: str, parent_id: str | None = None, read: bool = False) -> Collection | None:
        """The collection a listing pages (None: no such playlist); a history's view (``read``: as read)."""
        if resource == PLAYLIST_TRACKS:
            return None if parent_id in self.unpublished else self.tracks.get(str(parent_id))
        if resource in HISTORIES:
            return self.history.view(resource, read)
        return self.collections[resource]

    def item_resource(
        self, item: LibraryItem, include_catalog: bool, extend: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """
        The item as a listing returns it, given ``include=catalog`` and ``extend``: with
        ``include=catalog``, the catalog resource when the item has one, else an empty
        catalog relationship (uploaded songs, songs without ``playParams``, playlists the app
        made); artists have none. A catalog entry of a history is its catalog resource, a music
        video only ``{id, type, href}``. A playlist's ``playParams`` carry its ``versionHash``
        (which changes with its tracks).
        """
        if item.type == "music-videos":  # as the play history reports them: no attributes
            return {
                "id": item.library_id,
                "type": item.type,
                "href": f"/v1/catalog/us/{item.type}/{item.library_id}",
            }
        if item.type in self.catalog.items:
            return self.catalog.resource(item.type, item.library_id, "us")
        kind = KINDS[item.type].catalog_kind
        if not include_catalog or kind is None:
            body = item.resource(None, extend)
        elif item.catalog_id is None:
            body = item.resource(None, extend, unlinked=True)
        else:
            body = item.resource(self.catalog.resource(kind, item.catalog_id, "us"), extend)
        if item.type == "library-playlists":
            attributes = body["attributes"]
            attributes["playParams"] = {**attributes["playParams"], "versionHash": self._version_hash(item)}
        return body

    def _version_hash(self, playlist: LibraryItem) -> str:
        """A playlist's ``playParams.versionHash``: follows its name and its tracks."""
        tracks = self.tracks.get(playlist.library_id)
        entries = ",".join(i for _, i in tracks.order) if tracks is not None else ""
        digest = hashlib.sha256(f"{playlist.library_id}|{playlist.attributes['name']}|{entries}".encode())
        return digest.hexdigest()[:16]

    def withdrawn_ids(self, kind: str) -> list[str]:
        """Withdrawn catalog ids of ``kind`` that visible items point at, in listing order."""
        withdrawn = self.catalog.withdrawn[kind]
        return [
            item.catalog_id
            for item in self.collections[LIBRARY_TYPE[kind]].visible()
            if item.catalog_id is not None and item.catalog_id in withdrawn
        ]
