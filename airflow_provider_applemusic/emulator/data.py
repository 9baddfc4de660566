"""Deterministic library and catalog data for the emulator, with the real service's quirks."""

from __future__ import annotations

import bisect
import datetime as dt
import random
import string
from dataclasses import dataclass, field
from typing import Any

_ADJECTIVES = [
    "Blue",
    "Golden",
    "Silent",
    "Electric",
    "Wild",
    "Broken",
    "Velvet",
    "Midnight",
    "Northern",
    "Paper",
    "Hidden",
    "Burning",
    "Crystal",
    "Lonely",
    "Neon",
    "Radiant",
    "Frozen",
    "Endless",
]
_NOUNS = [
    "River",
    "Hearts",
    "Machine",
    "Summer",
    "Garden",
    "Highway",
    "Echoes",
    "Stars",
    "Ocean",
    "Letters",
    "Mountain",
    "City",
    "Dreams",
    "Fire",
    "Shadows",
    "Horizon",
    "Signal",
    "Roses",
]
_UNICODE = ["Été", "Über", "Café", "Niño", "東京", "Ωmega", "Søndag", "Jalapeño", "Ça"]
_ARTISTS = [
    "Bruce Springsteen",
    "Bob Dylan",
    "Sam Smith",
    "Lana Del Rey",
    "Katy Perry",
    "Ed Sheeran",
    "Sigur Rós",
    "Björk",
    "Beyoncé",
    "Ukraine National Symphony Orchestra",
    "The Beatles",
    "Mø",
    "Daft Punk",
    "Rosalía",
    "Michael de Jong",
]
_GENRES = ["Rock", "Pop", "Alternative", "Classical", "Electronic", "Hip-Hop/Rap", "Jazz", "Folk"]
_ARTICLES = ("the ", "a ", "an ")
_BASE62 = string.ascii_letters + string.digits
#: additions are spread over this year, so daily backfill windows find some each day
ADDED_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
ADDED_SPAN_SECONDS = 366 * 24 * 3600
CATALOG_TYPES = ("albums", "songs", "playlists", "music-videos")
LIBRARY_TYPE = {
    "albums": "library-albums",
    "songs": "library-songs",
    "playlists": "library-playlists",
    "music-videos": "library-music-videos",
}
#: attributes the service returns only when the request names them in ``extend``
EXTENDED_ATTRIBUTES = frozenset({"dateAdded"})
_LIBRARY_PREFIX = {"albums": "l.", "songs": "i.", "playlists": "p.", "music-videos": "i."}


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
class LibraryAlbum:
    """One album of the emulated library."""

    library_id: str
    catalog_id: str
    attributes: dict[str, Any]
    hidden: bool = False

    def resource(self, catalog: dict[str, Any] | None, extend: tuple[str, ...] = ()) -> dict[str, Any]:
        """
        The LibraryAlbum resource, with the catalog album inline when asked for; extended
        attributes (``dateAdded``) only when ``extend`` names them, like the service.
        """
        attributes = {
            name: value
            for name, value in self.attributes.items()
            if name not in EXTENDED_ATTRIBUTES or name in extend
        }
        body: dict[str, Any] = {
            "id": self.library_id,
            "type": "library-albums",
            "href": f"/v1/me/library/albums/{self.library_id}",
            "attributes": attributes,
        }
        if catalog is not None:
            body["relationships"] = {
                "catalog": {
                    "href": f"/v1/me/library/albums/{self.library_id}/catalog",
                    "data": [catalog],
                }
            }
        return body


@dataclass
class Library:
    """The emulated catalog and one user's library; not thread-safe (the server locks)."""

    seed: int
    hidden_every: int = 0
    rng: random.Random = field(init=False)
    catalog: dict[str, dict[str, dict[str, Any]]] = field(init=False)
    in_library: dict[str, dict[str, str]] = field(init=False)
    albums: dict[str, LibraryAlbum] = field(init=False)
    order: list[tuple[tuple[str, str], str]] = field(init=False)
    _used_ids: set[str] = field(init=False)
    _created: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.catalog = {kind: {} for kind in CATALOG_TYPES}
        self.in_library = {kind: {} for kind in CATALOG_TYPES}
        self.albums = {}
        self.order = []
        self._used_ids = set()

    # -- identifiers -------------------------------------------------------------------

    def _new_id(self, prefix: str, alphabet: str, length: int) -> str:
        while True:
            value = prefix + "".join(self.rng.choice(alphabet) for _ in range(length))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def new_catalog_id(self, kind: str) -> str:
        """A fresh catalog id of the service's shape for ``kind``."""
        if kind == "playlists":
            if self.rng.random() < 0.5:
                return self._new_id("pl.u-", _BASE62, 14)
            return self._new_id("pl.", "0123456789abcdef", 32)
        return self._new_id(str(self.rng.randint(1, 9)), string.digits, 9)

    # -- generation ----------------------------------------------------------------------

    def _album_name(self) -> str:
        rng = self.rng
        roll = rng.random()
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        if roll < 0.15:
            name = f"The {adjective} {noun}"
        elif roll < 0.22:
            name = f"A {noun} of {rng.choice(_NOUNS)}"
        elif roll < 0.30:
            name = f"{adjective.lower()} {noun.lower()}"
        elif roll < 0.38:
            name = f"{rng.choice(_UNICODE)} {noun}"
        else:
            name = f"{adjective} {noun}"
        if rng.random() < 0.2:
            name += rng.choice([" (Deluxe Edition)", " (Remastered)", " (Live)", " - EP"])
        return name

    def make_catalog_album(self) -> str:
        """Create a catalog album and return its id."""
        rng = self.rng
        catalog_id = self.new_catalog_id("albums")
        release = ADDED_EPOCH - dt.timedelta(days=rng.randint(30, 20000))
        attributes: dict[str, Any] = {
            "artistName": rng.choice(_ARTISTS),
            "name": self._album_name(),
            "trackCount": rng.randint(1, 24),
            "genreNames": [*rng.sample(_GENRES, rng.randint(1, 2)), "Music"],
            "releaseDate": release.date().isoformat(),
            "url": f"https://music.apple.com/us/album/{catalog_id}",
            "isComplete": True,
            "playParams": {"id": catalog_id, "kind": "album"},
        }
        if rng.random() < 0.9:
            attributes["artwork"] = {
                "width": 1200,
                "height": 1200,
                "url": f"https://example.mzstatic.com/image/thumb/{catalog_id}/{{w}}x{{h}}bb.jpeg",
            }
        if rng.random() < 0.15:
            attributes["contentRating"] = "explicit"
        self.catalog["albums"][catalog_id] = attributes
        return catalog_id

    def make_catalog_item(self, kind: str) -> str:
        """Create a catalog song, playlist or music video and return its id."""
        catalog_id = self.new_catalog_id(kind)
        self.catalog[kind][catalog_id] = {
            "name": f"{self.rng.choice(_ADJECTIVES)} {self.rng.choice(_NOUNS)}",
            "artistName": self.rng.choice(_ARTISTS),
            "url": f"https://music.apple.com/us/{kind}/{catalog_id}",
        }
        return catalog_id

    def _date_added(self, when: dt.datetime | None) -> str | None:
        index = self._created
        if when is None:
            when = ADDED_EPOCH + dt.timedelta(seconds=self.rng.randrange(ADDED_SPAN_SECONDS))
        if index % 17 == 16:
            return None
        if index % 13 == 12:
            return when.date().isoformat()
        return iso_z(when)

    def add_album(self, catalog_id: str, when: dt.datetime | None = None) -> LibraryAlbum:
        """Put a catalog album into the library under a fresh library id."""
        source = self.catalog["albums"][catalog_id]
        library_id = self._new_id("l.", _BASE62, 7)
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
        date_added = self._date_added(when)
        if date_added is not None:
            attributes["dateAdded"] = date_added
        hidden = bool(self.hidden_every) and self._created % self.hidden_every == (self.hidden_every - 1)
        self._created += 1
        album = LibraryAlbum(library_id, catalog_id, attributes, hidden)
        self.albums[library_id] = album
        self.in_library["albums"][catalog_id] = library_id
        bisect.insort(self.order, (sort_key(attributes["name"], library_id), library_id))
        return album

    def add_item(self, kind: str, catalog_id: str, when: dt.datetime | None = None) -> str:
        """Put a catalog resource of any type into the library; return its library id."""
        if catalog_id in self.in_library[kind]:
            return self.in_library[kind][catalog_id]
        if kind == "albums":
            return self.add_album(catalog_id, when).library_id
        library_id = self._new_id(_LIBRARY_PREFIX[kind], _BASE62, 12)
        self.in_library[kind][catalog_id] = library_id
        return library_id

    def remove_album(self, library_id: str) -> None:
        """Take an album out of the library (re-adding it later gives a new library id)."""
        album = self.albums.pop(library_id)
        self.in_library["albums"].pop(album.catalog_id, None)
        key = (sort_key(album.attributes["name"], library_id), library_id)
        index = bisect.bisect_left(self.order, key)
        if index < len(self.order) and self.order[index] == key:
            del self.order[index]

    def populate(self, albums: int) -> None:
        """Fill the catalog and the library with ``albums`` library albums and extras."""
        for _ in range(albums):
            self.add_album(self.make_catalog_album())
        for _ in range(100 + albums // 10):
            self.make_catalog_album()
        for kind, total, owned in (("songs", 200, 20), ("playlists", 50, 5), ("music-videos", 50, 5)):
            ids = [self.make_catalog_item(kind) for _ in range(total)]
            for catalog_id in ids[:owned]:
                self.add_item(kind, catalog_id)

    # -- reading -----------------------------------------------------------------------

    def catalog_resource(self, kind: str, catalog_id: str, storefront: str) -> dict[str, Any]:
        """A catalog resource as the service returns it."""
        return {
            "id": catalog_id,
            "type": kind,
            "href": f"/v1/catalog/{storefront}/{kind}/{catalog_id}",
            "attributes": self.catalog[kind][catalog_id],
        }

    def album_resource(
        self, album: LibraryAlbum, include_catalog: bool, extend: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The album as a listing returns it, given ``include=catalog`` and ``extend``."""
        catalog = self.catalog_resource("albums", album.catalog_id, "us") if include_catalog else None
        return album.resource(catalog, extend)

    def visible_albums(self) -> list[LibraryAlbum]:
        """Every album a client can see, in the service's order."""
        return [self.albums[i] for _, i in self.order if not self.albums[i].hidden]
