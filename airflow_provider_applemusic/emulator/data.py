"""
Deterministic library and catalog data for the emulator, with the real service's quirks.

One :class:`Collection` per library listing (albums, songs, artists, playlists, music videos,
and each playlist's tracks) holds its items and the order the service lists them in: by name,
articles ignored and case folded, except playlist tracks (playlist order). :class:`Library`
generates the catalog and the library from a seed and keeps ``in_library`` (catalog id to
library id) in step with the collections.

The four histories are views built from that state, newest first, each a short list:
``recently-added`` (library albums and playlists by the moment they were added, the newest
:data:`HISTORY_CAPS` ``[recently-added]``), ``recently-played-tracks`` (catalog and library
songs and catalog music videos, from a play history generated from the seed, see
:meth:`Library.play`), ``heavy-rotation`` (catalog albums and playlists) and
``recently-played`` (catalog albums, playlists and stations).

A playlist's tracks can hold one library song at several positions (``playlist_repeats``,
:meth:`Library.make_playlist`). What time does to a real library (:meth:`Library._age`): some
generated songs lose their ``playParams`` and catalog link, and some albums, songs and music
videos point at catalog ids the catalog no longer resolves (:attr:`Library.withdrawn`). Those
quirks, repeats, the music videos of the play history, artists' ``dateAdded`` and the
playlists' reported attributes come from generators of their own or from counts, never from
the library's random generator, so a seed gives the same library ids and names as before.

Catalog songs carry an ``isrc`` and catalog albums a ``upc`` (12 digits, every
:data:`EAN_EVERY` th a 13-digit EAN), indexed by :class:`CodeIndex` for the catalog's
``filter[isrc]`` / ``filter[upc]`` look-ups; every :data:`SHARED_CODE_EVERY` th code is shared by
several catalog items (a single and its album versions, editions of an album). Both are
derived from the catalog id, never drawn from the library's random generator, so a seed gives
the same library as before. Playlists the app creates through the API
(:meth:`Library.create_playlist`) stay unpublished, out of every listing, until the server
publishes them. Personal ratings (1 love, -1 dislike) are drawn from the seed with a generator
of their own (:meth:`Library.populate_ratings`), one per catalog item, which its library item
shares.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import heapq
import random
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

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
_BASE62_BYTES = bytes(ord(_BASE62[b % len(_BASE62)]) for b in range(256))
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
_LIBRARY_PREFIX = {"albums": "l.", "songs": "i.", "playlists": "p.", "music-videos": "i.", "artists": "r."}
#: every Nth library song is an upload (no catalog id): about 5 %
UPLOAD_EVERY = 20
#: in a generated playlist of 3 tracks or more, about 1 entry in 15 repeats a song earlier in it
PLAYLIST_REPEAT_SHARE = 1 / 15
#: about 1 play in 12 of the generated play history is a music video
PLAYED_VIDEO_SHARE = 1 / 12
#: every Nth library playlist was created by the app (``canEdit``, no catalog id)
APP_PLAYLIST_EVERY = 4
#: every Nth library playlist (from the second) has no tracks
EMPTY_PLAYLIST_EVERY = 3
#: catalog items of each type generated beyond those in the library (plus a tenth of the library)
_CATALOG_EXTRAS = {"albums": 100, "songs": 180, "playlists": 45, "music-videos": 45}
#: every Nth distinct ISRC (and UPC) is shared by several catalog items
SHARED_CODE_EVERY = 10
#: at most this many catalog items share one code: songs (single and album versions),
#: albums (editions)
MAX_SHARING = {"songs": 3, "albums": 2}
#: every Nth catalog album carries a 13-digit EAN instead of a 12-digit UPC
EAN_EVERY = 7
_ISRC_COUNTRIES = ("US", "GB", "FR", "DE", "SE", "JP", "CA", "NL", "QM")
#: the catalog attribute holding each type's standard code
CODE_ATTRIBUTE = {"songs": "isrc", "albums": "upc"}
#: the kinds ``/v1/me/ratings/{kind}`` serves: the catalog types and their library types
RATING_KINDS = (*CATALOG_TYPES, *LIBRARY_TYPE.values())
#: about this share of the library's albums, songs, playlists and music videos is rated
RATED_SHARE = 0.3
#: about this share of the catalog items outside the library is rated
RATED_CATALOG_SHARE = 0.05
#: of the rated items, about this share is loved (1), the rest disliked (-1)
LOVED_SHARE = 0.8


@dataclass(frozen=True)
class ResourceKind:
    """
    One top-level library listing.

    :param resource: the resource type, e.g. ``library-songs``.
    :param segment: its path segment under ``/v1/me/library/``.
    :param prefix: the prefix of its library ids.
    :param catalog_kind: the catalog type its items come from (None: no catalog resources).
    :param dated: its items carry the extended attribute ``dateAdded`` (the service gives it on
        albums, songs, artists and playlists, never on music videos).
    """

    resource: str
    segment: str
    prefix: str
    catalog_kind: str | None
    dated: bool = True


#: the top-level listings, by resource type
KINDS: dict[str, ResourceKind] = {
    kind.resource: kind
    for kind in (
        ResourceKind("library-albums", "albums", "l.", "albums"),
        ResourceKind("library-songs", "songs", "i.", "songs"),
        ResourceKind("library-artists", "artists", "r.", None),
        ResourceKind("library-playlists", "playlists", "p.", "playlists"),
        ResourceKind(
            "library-music-videos",
            "music-videos",
            _LIBRARY_PREFIX["music-videos"],
            "music-videos",
            dated=False,
        ),
    )
}
#: the relationship listing ``/v1/me/library/playlists/{id}/tracks`` (library-songs, playlist order)
PLAYLIST_TRACKS = "library-playlist-tracks"
#: ``/v1/me/library/recently-added``: library albums and playlists, newest first
RECENTLY_ADDED = "recently-added"
#: ``/v1/me/recent/played/tracks``: catalog and library songs (and music videos), newest first,
#: no play times
RECENTLY_PLAYED = "recently-played-tracks"
#: ``/v1/me/history/heavy-rotation``: catalog albums and playlists the user plays a lot
HEAVY_ROTATION = "heavy-rotation"
#: ``/v1/me/recent/played``: catalog albums, playlists and stations recently played, newest first
RECENTLY_PLAYED_RESOURCES = "recently-played"
HISTORIES = (RECENTLY_ADDED, RECENTLY_PLAYED, HEAVY_ROTATION, RECENTLY_PLAYED_RESOURCES)
#: how many entries each history reports at most (the service keeps them short; recently-added
#: ends after 150 items however large the library)
HISTORY_CAPS = {RECENTLY_ADDED: 150, RECENTLY_PLAYED: 50, HEAVY_ROTATION: 20, RECENTLY_PLAYED_RESOURCES: 50}
#: every listing the emulator serves
LISTING_RESOURCES = (*KINDS, PLAYLIST_TRACKS, *HISTORIES)
#: ``(page maximum, default limit)`` of each listing: a larger ``limit`` answers 400
PAGE_LIMITS: dict[str, tuple[int, int]] = {
    **{resource: (100, 25) for resource in (*KINDS, PLAYLIST_TRACKS)},
    RECENTLY_ADDED: (25, 10),
    RECENTLY_PLAYED: (30, 10),
    HEAVY_ROTATION: (10, 10),
    RECENTLY_PLAYED_RESOURCES: (10, 10),
}
#: the entry types of the play history (``recent/played/tracks``); music videos come back as
#: ``{id, type, href}`` only, whatever the request's ``types``
PLAYED_TYPES = ("songs", "library-songs", "music-videos")
#: the types ``recent/played/tracks`` answers without a ``types`` parameter
DEFAULT_PLAYED_TYPES = ("songs",)
KIND_BY_SEGMENT = {kind.segment: kind for kind in KINDS.values()}
_KIND_BY_CATALOG = {kind.catalog_kind: kind for kind in KINDS.values() if kind.catalog_kind}


def gtin_check_digit(payload: str) -> str:
    """The GS1 check digit of a UPC/EAN payload (weights 3 and 1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str(-total % 10)


def make_isrc(catalog_id: str, year: int, attempt: int = 0) -> str:
    """An ISRC derived from a catalog id: country, registrant, the release year's two digits, 5 digits."""
    rng = random.Random(f"isrc:{catalog_id}:{attempt}")
    registrant = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(3))
    return f"{rng.choice(_ISRC_COUNTRIES)}{registrant}{year % 100:02d}{rng.randrange(100_000):05d}"


def make_upc(catalog_id: str, attempt: int = 0) -> str:
    """A UPC (12 digits) or, for every :data:`EAN_EVERY` th album id, an EAN (13), check digit included."""
    rng = random.Random(f"upc:{catalog_id}:{attempt}")
    length = 13 if int(catalog_id) % EAN_EVERY == 0 else 12
    payload = str(rng.randint(1, 9)) + "".join(str(rng.randrange(10)) for _ in range(length - 2))
    return payload + gtin_check_digit(payload)


class CodeIndex:
    """
    Catalog ids by standard code (ISRC or UPC), in the order the catalog made them.

    Codes are handed out as catalog items are made (:meth:`assign`); every ``share_every`` th
    fresh code is reused by the next 1 to ``max_share - 1`` items, so those items share it.
    """

    def __init__(self, share_every: int, max_share: int) -> None:
        self.share_every = share_every
        self.max_share = max_share
        self.ids: dict[str, list[str]] = {}
        self._last: str | None = None
        self._left = 0

    def assign(self, catalog_id: str, fresh: Callable[[int], str]) -> tuple[str, str | None]:
        """
        The code of a new catalog item: a fresh one (``fresh(attempt)``, retried on collision)
        or the previous one when it is shared; returns it and the first item sharing it (None:
        the code is new).
        """
        if self._left and self._last is not None:
            self._left -= 1
            self.ids[self._last].append(catalog_id)
            return self._last, self.ids[self._last][0]
        attempt = 0
        code = fresh(attempt)
        while code in self.ids:
            attempt += 1
            code = fresh(attempt)
        self.ids[code] = [catalog_id]
        self._last = code
        if len(self.ids) % self.share_every == 0:
            self._left = random.Random(f"share:{code}").randint(1, self.max_share - 1)
        return code, None

    def lookup(self, codes: Iterable[str]) -> list[str]:
        """The catalog ids of ``codes`` (matched exactly), in code order, each id once."""
        return list(dict.fromkeys(i for code in codes for i in self.ids.get(code, ())))


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


#: the album face of :class:`LibraryItem` (its former name)
LibraryAlbum = LibraryItem


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
    rng: random.Random = field(init=False)
    catalog: dict[str, dict[str, dict[str, Any]]] = field(init=False)
    in_library: dict[str, dict[str, str]] = field(init=False)
    collections: dict[str, Collection] = field(init=False)
    #: each library playlist's tracks (library songs, playlist order), by playlist id
    tracks: dict[str, Collection] = field(init=False)
    #: the play history, newest first: ``(type, id)``, ``songs`` (catalog id) or ``library-songs``
    played: list[tuple[str, str]] = field(init=False)
    #: heavy rotation, most played first: ``(type, catalog id)``, ``albums`` or ``playlists``
    rotation: list[tuple[str, str]] = field(init=False)
    #: ``recent/played``, newest first: ``(type, catalog id)``, ``albums``, ``playlists`` or
    #: ``stations``
    recent: list[tuple[str, str]] = field(init=False)
    #: catalog ids the catalog no longer resolves, by catalog type (library items still point
    #: at them)
    withdrawn: dict[str, set[str]] = field(init=False)
    #: draws the histories, apart from ``rng``: the library a seed gives does not depend on them
    history_rng: random.Random = field(init=False)
    #: catalog ids by ISRC (``songs``) and by UPC (``albums``)
    codes: dict[str, CodeIndex] = field(init=False)
    #: playlists the app created through the API, in creation order (published or not)
    created: list[LibraryItem] = field(init=False)
    #: ids of created playlists not yet in the listings (nor reachable by id)
    unpublished: set[str] = field(init=False)
    #: personal ratings (1 love, -1 dislike) by catalog type, keyed by catalog id, or by library
    #: id for an item without one (an upload, a playlist the app made): a library item and its
    #: catalog item share one rating, which outlives the library item
    ratings: dict[str, dict[str, int]] = field(init=False)
    _used_ids: set[str] = field(init=False)
    _recently_added: tuple[tuple[int, int], Collection] | None = field(init=False)
    #: generated items counted for ``songs_without_play_params_every`` and ``withdrawn_every``
    _aged: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        # stations exist only as entries of ``recent/played``
        self.catalog = {kind: {} for kind in (*CATALOG_TYPES, "stations")}
        self.in_library = {kind: {} for kind in CATALOG_TYPES}
        self.collections = {resource: Collection(resource) for resource in KINDS}
        self.tracks = {}
        self.played = []
        self.rotation = []
        self.recent = []
        self.withdrawn = {kind: set() for kind in CATALOG_TYPES}
        self._aged = {}
        self.history_rng = random.Random(f"history:{self.seed}")
        self.codes = {kind: CodeIndex(SHARED_CODE_EVERY, MAX_SHARING[kind]) for kind in CODE_ATTRIBUTE}
        self.created = []
        self.unpublished = set()
        self.ratings = {kind: {} for kind in CATALOG_TYPES}
        self._used_ids = set()
        self._recently_added = None

    @property
    def albums(self) -> dict[str, LibraryItem]:
        """The library albums by library id."""
        return self.collections["library-albums"].items

    @property
    def order(self) -> list[tuple[tuple[str, str], str]]:
        """The albums' listing order."""
        return self.collections["library-albums"].order

    # -- identifiers -------------------------------------------------------------------

    def _new_id(self, prefix: str, alphabet: str, length: int) -> str:
        while True:
            value = prefix + "".join(self.rng.choice(alphabet) for _ in range(length))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def _new_fast_id(self, prefix: str, length: int) -> str:
        # one RNG call an id, so large libraries build fast (albums keep ``_new_id``'s sequence)
        while True:
            value = prefix + self.rng.randbytes(length).translate(_BASE62_BYTES).decode("ascii")
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def new_catalog_id(self, kind: str) -> str:
        """A fresh catalog id of the service's shape for ``kind``."""
        if kind == "playlists":
            if self.rng.random() < 0.5:
                return self._new_id("pl.u-", _BASE62, 14)
            return self._new_id("pl.", "0123456789abcdef", 32)
        if kind == "albums":
            return self._new_id(str(self.rng.randint(1, 9)), string.digits, 9)
        while True:
            value = str(self.rng.randrange(1_000_000_000, 10_000_000_000))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

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

    def _title(self) -> str:
        """A song, video or playlist name: articles, lower case and non-ASCII included."""
        rng = self.rng
        roll = rng.random()
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        if roll < 0.15:
            return f"The {adjective} {noun}"
        if roll < 0.22:
            return f"An {adjective} {noun}"
        if roll < 0.30:
            return f"{adjective.lower()} {noun.lower()}"
        if roll < 0.38:
            return f"{rng.choice(_UNICODE)} {noun}"
        return f"{adjective} {noun}"

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
        self._give_code("albums", catalog_id, attributes, lambda attempt: make_upc(catalog_id, attempt))
        self.catalog["albums"][catalog_id] = attributes
        return catalog_id

    def _give_code(
        self, kind: str, catalog_id: str, attributes: dict[str, Any], fresh: Callable[[int], str]
    ) -> None:
        """
        Set the item's ISRC or UPC (names stay as generated, so a seed lists the library in the
        same order as before codes existed).
        """
        attributes[CODE_ATTRIBUTE[kind]] = self.codes[kind].assign(catalog_id, fresh)[0]

    def make_catalog_item(self, kind: str) -> str:
        """Create a catalog song, playlist or music video and return its id."""
        rng = self.rng
        catalog_id = self.new_catalog_id(kind)
        attributes: dict[str, Any] = {
            "name": self._title(),
            "url": f"https://music.apple.com/us/{kind}/{catalog_id}",
        }
        if kind == "playlists":
            attributes["curatorName"] = "Apple Music"
            attributes["playParams"] = {"id": catalog_id, "kind": "playlist"}
            if rng.random() < 0.6:
                attributes["description"] = {"standard": f"The best of {rng.choice(_ARTISTS)}."}
        else:
            attributes["artistName"] = rng.choice(_ARTISTS)
            attributes["genreNames"] = [rng.choice(_GENRES), "Music"]
            attributes["durationInMillis"] = rng.randint(60_000, 600_000)
            attributes["playParams"] = {"id": catalog_id, "kind": "song" if kind == "songs" else "musicVideo"}
            if kind == "songs":
                attributes["albumName"] = self._album_name()
                attributes["trackNumber"] = rng.randint(1, 16)
                # derived from the id, not drawn from ``rng``: the generated library stays as it was
                days = random.Random(f"release:{catalog_id}").randint(30, 20000)
                release = ADDED_EPOCH - dt.timedelta(days=days)
                attributes["releaseDate"] = release.date().isoformat()
                self._give_code(
                    "songs",
                    catalog_id,
                    attributes,
                    lambda attempt: make_isrc(catalog_id, release.year, attempt),
                )
        self.catalog[kind][catalog_id] = attributes
        return catalog_id

    def _stamp(
        self, collection: Collection, attributes: dict[str, Any], when: dt.datetime | None
    ) -> tuple[bool, dt.datetime]:
        """
        Set ``dateAdded`` (when the kind has it) and count the item; returns whether it is
        hidden and the moment it was added. Kinds with a catalog draw the moment from ``rng``,
        artists from a generator of their own (so a seed gives the same library as before
        artists had ``dateAdded``).
        """
        index = collection.created
        kind = KINDS[collection.resource]
        if when is None:
            rng = (
                self.rng if kind.catalog_kind else random.Random(f"added:{self.seed}:{kind.resource}:{index}")
            )
            when = ADDED_EPOCH + dt.timedelta(seconds=rng.randrange(ADDED_SPAN_SECONDS))
        if kind.dated:
            if index % 13 == 12 and index % 17 != 16:
                attributes["dateAdded"] = when.date().isoformat()  # sometimes a bare date
            elif index % 17 != 16:  # very old items have none
                attributes["dateAdded"] = iso_z(when)
        collection.created += 1
        hidden = bool(self.hidden_every) and index % self.hidden_every == self.hidden_every - 1
        return hidden, when

    def _put(
        self,
        resource: str,
        catalog_id: str | None,
        attributes: dict[str, Any],
        library_id: str,
        when: dt.datetime | None,
        sort: bool,
    ) -> LibraryItem:
        collection = self.collections[resource]
        hidden, added = self._stamp(collection, attributes, when)
        item = LibraryItem(library_id, catalog_id, attributes, hidden, resource, added)
        if resource == "library-playlists":  # changed some time after it was added (from its id)
            days = random.Random(f"modified:{self.seed}:{library_id}").uniform(0, 400)
            self._touch(item, added + dt.timedelta(days=days) if when is None else added)
        collection.add(item, sort=sort)
        kind = KINDS[resource].catalog_kind
        if kind is not None and catalog_id is not None:
            self.in_library[kind][catalog_id] = library_id
        return item

    def add_album(
        self, catalog_id: str, when: dt.datetime | None = None, *, sort: bool = True
    ) -> LibraryItem:
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
        return self._put("library-albums", catalog_id, attributes, library_id, when, sort)

    def _song_attributes(
        self, library_id: str, source: dict[str, Any], catalog_id: str | None
    ) -> dict[str, Any]:
        play_params: dict[str, Any] = {"id": library_id, "kind": "song", "isLibrary": True}
        if catalog_id is not None:
            play_params["catalogId"] = catalog_id
        return {
            "name": source["name"],
            "artistName": source["artistName"],
            "albumName": source["albumName"],
            "durationInMillis": source["durationInMillis"],
            "trackNumber": source["trackNumber"],
            "genreNames": list(source["genreNames"]),
            "playParams": play_params,
        }

    def _add_upload(self, when: dt.datetime | None, sort: bool) -> LibraryItem:
        """A song the user uploaded: in the library, not in the catalog."""
        rng = self.rng
        library_id = self._new_fast_id("i.", 12)
        source = {
            "name": self._title(),
            "artistName": rng.choice(_ARTISTS),
            "albumName": self._album_name(),
            "durationInMillis": rng.randint(60_000, 600_000),
            "trackNumber": rng.randint(1, 16),
            "genreNames": [rng.choice(_GENRES)],
        }
        return self._put(
            "library-songs", None, self._song_attributes(library_id, source, None), library_id, when, sort
        )

    def _add_app_playlist(self, when: dt.datetime | None, sort: bool) -> LibraryItem:
        """A playlist the app created: ``canEdit``, no catalog id."""
        library_id = self._new_fast_id("p.", 14)
        attributes = self._playlist_attributes(library_id, self._title(), "Made by the app.", can_edit=True)
        item = self._put("library-playlists", None, attributes, library_id, when, sort)
        self._fill_playlist(item)
        return item

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
                play_params["globalId"] = "pl.u-" + "".join(rng.choice(_BASE62) for _ in range(14))
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
        library_id = self._new_fast_id("p.", 14)
        attributes = self._playlist_attributes(library_id, name, description, can_edit=True, shared=public)
        _, added = self._stamp(self.collections["library-playlists"], attributes, when)
        item = LibraryItem(library_id, None, attributes, False, "library-playlists", added)
        self._touch(item, when)
        self.tracks[library_id] = Collection(PLAYLIST_TRACKS, by_name=False)
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
        library_id = self._new_fast_id("p.", 14)
        attributes = self._playlist_attributes(library_id, name, None, can_edit=can_edit)
        _, added = self._stamp(self.collections["library-playlists"], attributes, None)
        item = LibraryItem(library_id, None, attributes, False, "library-playlists", added)
        self._touch(item, added)
        tracks = Collection(PLAYLIST_TRACKS, by_name=False)
        for song_id in song_ids:
            tracks.add(songs.items[song_id])
        self.tracks[library_id] = tracks
        self.collections["library-playlists"].add(item)
        return item

    def publish_playlist(self, library_id: str) -> None:
        """Put a created playlist into the listings (it appears, reachable by id)."""
        if library_id in self.unpublished:
            self.unpublished.discard(library_id)
            item = next(i for i in self.created if i.library_id == library_id)
            self.collections["library-playlists"].add(item)

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
                if not self.resolves("songs", song_id):
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

    def resolves(self, kind: str, catalog_id: str) -> bool:
        """The catalog knows ``catalog_id`` of ``kind`` and has not withdrawn it."""
        return catalog_id in self.catalog[kind] and catalog_id not in self.withdrawn.get(kind, ())

    def _add_artist(self, when: dt.datetime | None, sort: bool) -> LibraryItem:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            name = rng.choice(_ARTISTS)
        elif roll < 0.5:
            name = f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        else:
            name = self._title()
        library_id = self._new_fast_id("r.", 7)
        return self._put("library-artists", None, {"name": name}, library_id, when, sort)

    def _fill_playlist(self, playlist: LibraryItem) -> None:
        """Give a new playlist its tracks: library songs, in an order of their own."""
        index = self.collections["library-playlists"].created - 1
        tracks = Collection(PLAYLIST_TRACKS, by_name=False)
        self.tracks[playlist.library_id] = tracks
        songs = self.collections["library-songs"]
        if not self.playlist_tracks or index % EMPTY_PLAYLIST_EVERY == 1 or not len(songs):
            return
        count = self.rng.randint(1, max(1, 3 * self.playlist_tracks - 1))
        order = songs._order  # sampled by position: no need to sort first
        picked = [
            songs.items[order[p][1]] for p in self.rng.sample(range(len(order)), min(count, len(order)))
        ]
        # users add songs again: some entries repeat an earlier one (drawn apart from ``rng``)
        repeats = random.Random(f"repeats:{self.seed}:{playlist.library_id}")
        odds = PLAYLIST_REPEAT_SHARE / (1 - PLAYLIST_REPEAT_SHARE)
        entries: list[LibraryItem] = []
        for song in picked:
            if self.playlist_repeats and len(picked) >= 3 and entries and repeats.random() < odds:
                entries.append(repeats.choice(entries))
            entries.append(song)
        for song in entries:
            tracks.add(song)

    def add_item(
        self, kind: str, catalog_id: str, when: dt.datetime | None = None, *, sort: bool = True
    ) -> str:
        """Put a catalog resource of any type into the library; return its library id."""
        if catalog_id in self.in_library[kind]:
            return self.in_library[kind][catalog_id]
        if kind == "albums":
            return self.add_album(catalog_id, when, sort=sort).library_id
        source = self.catalog[kind][catalog_id]
        resource = LIBRARY_TYPE[kind]
        if kind == "songs":
            library_id = self._new_fast_id("i.", 12)
            attributes = self._song_attributes(library_id, source, catalog_id)
            return self._put(resource, catalog_id, attributes, library_id, when, sort).library_id
        if kind == "playlists":
            library_id = self._new_fast_id("p.", 14)
            description = source.get("description", {}).get("standard")
            attributes = self._playlist_attributes(
                library_id, source["name"], description, can_edit=False, catalog_id=catalog_id
            )
            item = self._put(resource, catalog_id, attributes, library_id, when, sort)
            self._fill_playlist(item)
            return library_id
        library_id = self._new_fast_id(_LIBRARY_PREFIX[kind], 12)
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
        return self._put(resource, catalog_id, attributes, library_id, when, sort).library_id

    def add_new(self, resource: str, when: dt.datetime | None = None, *, sort: bool = True) -> LibraryItem:
        """
        Add a fresh item to ``resource``'s collection (a new catalog item when it has one),
        added ``when`` (None: the seeded way).
        """
        collection = self.collections[resource]
        if resource == "library-albums":
            return self._age(self.add_album(self.make_catalog_album(), when, sort=sort))
        if resource == "library-artists":
            return self._add_artist(when, sort)
        if resource == "library-songs" and collection.created % UPLOAD_EVERY == UPLOAD_EVERY - 1:
            return self._add_upload(when, sort)
        if (
            resource == "library-playlists"
            and collection.created % APP_PLAYLIST_EVERY == APP_PLAYLIST_EVERY - 1
        ):
            return self._add_app_playlist(when, sort)
        kind = KINDS[resource].catalog_kind
        if kind is None:
            raise ValueError(f"{resource} has no catalog to add from")
        library_id = self.add_item(kind, self.make_catalog_item(kind), when, sort=sort)
        return self._age(collection.items[library_id])

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
                self.withdrawn[kind].add(item.catalog_id)
        return item

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

    def remove_album(self, library_id: str) -> None:
        """Take an album out of the library (re-adding it later gives a new library id)."""
        self.remove_item("library-albums", library_id)

    def change(
        self, resource: str, add: int, remove: int, parent_id: str | None = None
    ) -> tuple[list[str], list[str]]:
        """Add ``add`` fresh items to a listing and remove ``remove`` visible ones; their ids."""
        if resource in HISTORIES:
            return self._change_history(resource, add, remove)
        if resource == PLAYLIST_TRACKS:
            return self._change_tracks(self.tracks[str(parent_id)], add, remove)
        added = [self.add_new(resource).library_id for _ in range(add)]
        visible = [i.library_id for i in self.collections[resource].visible() if i.library_id not in added]
        removed = self.rng.sample(visible, min(remove, len(visible)))
        for library_id in removed:
            self.remove_item(resource, library_id)
        return added, removed

    def apply_changes(
        self,
        resource: str,
        add: int | Sequence[str],
        remove: int | Sequence[str],
        when: dt.datetime,
    ) -> tuple[list[str], list[str]]:
        """
        What a user does in the Music app: add items now (``add``: how many fresh catalog items,
        or which catalog ids) and remove items (``remove``: how many visible ones, or which
        library ids). Additions are dated ``when``, so albums and playlists lead
        ``recently-added``. Returns the added and the removed library ids.
        """
        kind = KINDS.get(resource)
        if kind is None:
            raise ValueError(f"resource must be one of {', '.join(KINDS)}, got {resource!r}")
        for name, value in (("add", add), ("remove", remove)):
            is_ids = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
            if isinstance(value, bool) or not (isinstance(value, int) or is_ids):
                raise ValueError(f"{name} must be a count or a list of ids, got {value!r}")
        collection = self.collections[resource]
        if isinstance(remove, int):
            if remove < 0:
                raise ValueError(f"remove must be 0 or more, got {remove}")
            visible = [item.library_id for item in collection.visible()]
            doomed = self.rng.sample(visible, min(remove, len(visible)))
        else:
            doomed = list(remove)
            unknown = [library_id for library_id in doomed if library_id not in collection]
            if unknown:
                raise ValueError(f"remove: not in {resource}: {', '.join(unknown)}")
        catalog_kind = kind.catalog_kind
        if isinstance(add, int):
            if add < 0:
                raise ValueError(f"add must be 0 or more, got {add}")
            added = [self.add_new(resource, when).library_id for _ in range(add)]
        else:
            if catalog_kind is None:
                raise ValueError(f"add: {resource} has no catalog ids; give a count")
            unknown = [cid for cid in add if cid not in self.catalog[catalog_kind]]
            if unknown:
                raise ValueError(f"add: unknown catalog {catalog_kind}: {', '.join(unknown)}")
            added = [self.add_item(catalog_kind, cid, when) for cid in add]
        for library_id in doomed:
            self.remove_item(resource, library_id)
        return added, doomed

    def _change_tracks(self, tracks: Collection, add: int, remove: int) -> tuple[list[str], list[str]]:
        songs = self.collections["library-songs"]
        candidates = [i for _, i in songs.order if i not in tracks]
        added = self.rng.sample(candidates, min(add, len(candidates)))
        for library_id in added:
            tracks.add(songs.items[library_id])
        # a repeated song is one choice: removing it takes it out at every position
        visible = list(dict.fromkeys(i.library_id for i in tracks.visible() if i.library_id not in added))
        removed = self.rng.sample(visible, min(remove, len(visible)))
        for library_id in removed:
            tracks.remove(library_id)
        return added, removed

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
            self._age(self.add_album(self.make_catalog_album(), sort=False))
        for _ in range(_CATALOG_EXTRAS["albums"] + albums // 10):
            self.make_catalog_album()
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
                    self.make_catalog_item(kind)

    # -- ratings -------------------------------------------------------------------------

    def populate_ratings(self) -> None:
        """
        Rate about :data:`RATED_SHARE` of the library's albums, songs, playlists and music
        videos and :data:`RATED_CATALOG_SHARE` of the other catalog items, most loved, from the
        seed alone (its own generator: the library a seed gives does not depend on it).
        """
        rng = random.Random(f"ratings:{self.seed}")

        def draw() -> int:
            return 1 if rng.random() < LOVED_SHARE else -1

        for kind, resource in LIBRARY_TYPE.items():
            for item in self.collections[resource].ordered():
                if rng.random() < RATED_SHARE:
                    self.ratings[kind][item.catalog_id or item.library_id] = draw()
            for catalog_id in self.catalog[kind]:
                if catalog_id not in self.in_library[kind] and rng.random() < RATED_CATALOG_SHARE:
                    self.ratings[kind][catalog_id] = draw()

    def _rating_key(self, kind: str, item_id: str) -> tuple[str, str] | None:
        """Where the rating of ``item_id`` of ``kind`` is kept: ``(catalog type, key)``; None: unknown."""
        if kind in CATALOG_TYPES:
            return (kind, item_id) if item_id in self.catalog[kind] else None
        if kind not in RATING_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RATING_KINDS)}, got {kind!r}")
        item = self.collections[kind].items.get(item_id)
        if item is None:
            return None
        catalog_kind = KINDS[kind].catalog_kind
        assert catalog_kind is not None
        return catalog_kind, item.catalog_id or item.library_id

    def rating(self, kind: str, item_id: str) -> int | None:
        """The rating of one item of ``kind`` (a catalog or library type); None: unrated or unknown."""
        key = self._rating_key(kind, item_id)
        return None if key is None else self.ratings[key[0]].get(key[1])

    def rate(self, kind: str, item_id: str, value: int | None) -> None:
        """Rate an item: 1 (love), -1 (dislike) or None (remove the rating)."""
        if value not in (1, -1, None) or isinstance(value, bool):
            raise ValueError(f"value must be 1, -1 or None, got {value!r}")
        key = self._rating_key(kind, item_id)
        if key is None:
            raise ValueError(f"no {kind} {item_id!r}")
        if value is None:
            self.ratings[key[0]].pop(key[1], None)
        else:
            self.ratings[key[0]][key[1]] = value

    def rated(self, kind: str) -> dict[str, int]:
        """Every rated item of ``kind``: ``{id: value}`` (library types in listing order)."""
        if kind in CATALOG_TYPES:
            catalog = self.catalog[kind]
            return {key: value for key, value in self.ratings[kind].items() if key in catalog}
        if kind not in RATING_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RATING_KINDS)}, got {kind!r}")
        found = {
            item.library_id: self.rating(kind, item.library_id) for item in self.collections[kind].ordered()
        }
        return {item_id: value for item_id, value in found.items() if value is not None}

    # -- the histories -------------------------------------------------------------------

    def populate_history(self, played: int = 30, heavy_rotation: int = 12) -> None:
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
            entry = self._fresh_history_entry(RECENTLY_PLAYED)
            if entry is None:
                break
            songs.append(entry)
            self.played.append(entry)
        for _ in range(min(heavy_rotation, HISTORY_CAPS[HEAVY_ROTATION])):
            entry = self._fresh_history_entry(HEAVY_ROTATION)
            if entry is None:
                break
            self.rotation.append(entry)
        # music videos and the recently played resources have generators of their own: the
        # songs and heavy rotation a seed gives stay as they were
        videos = random.Random(f"played-videos:{self.seed}")
        catalog_videos = list(self.catalog["music-videos"])
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
            entry = self._fresh_history_entry(RECENTLY_PLAYED_RESOURCES, recent)
            if entry is None:
                break
            self.recent.append(entry)

    def _entries(self, resource: str) -> list[tuple[str, str]]:
        """The ``(type, id)`` entries of a history other than recently-added, newest first."""
        if resource == RECENTLY_PLAYED:
            return self.played
        if resource == HEAVY_ROTATION:
            return self.rotation
        return self.recent

    def _make_station(self, rng: random.Random) -> str:
        """A catalog radio station (only ever seen in ``recent/played``); returns its id."""
        station_id = "ra." + str(rng.randrange(100_000_000, 2_000_000_000))
        artist = rng.choice(_ARTISTS)
        self.catalog["stations"][station_id] = {
            "name": f"{artist} Radio" if rng.random() < 0.7 else f"{rng.choice(_GENRES)} Station",
            "isLive": False,
            "url": f"https://music.apple.com/us/station/{station_id}",
            "playParams": {"id": station_id, "kind": "radioStation", "format": "stream"},
        }
        return station_id

    def _fresh_history_entry(self, resource: str, rng: random.Random | None = None) -> tuple[str, str] | None:
        """A ``(type, id)`` not yet in the history, drawn with ``rng`` (default ``history_rng``)."""
        rng = rng or self.history_rng
        present = set(self._entries(resource))
        for _ in range(50):
            if resource == RECENTLY_PLAYED:
                songs = self.collections["library-songs"]
                if len(songs) and rng.random() < 0.25:
                    entry = ("library-songs", songs.order[rng.randrange(len(songs))][1])
                elif self.catalog["songs"]:
                    entry = ("songs", rng.choice(list(self.catalog["songs"])))
                else:
                    return None
            elif resource == RECENTLY_PLAYED_RESOURCES and rng.random() < 0.2:
                entry = ("stations", self._make_station(rng))
            else:
                kind = "albums" if rng.random() < 0.6 or not self.catalog["playlists"] else "playlists"
                if not self.catalog[kind]:
                    return None
                entry = (kind, rng.choice(list(self.catalog[kind])))
            if entry not in present:
                return entry
        return None

    def play(self, kind: str, item_id: str) -> None:
        """
        Put a song (or music video) at the front of the play history (moving it there when
        already in it); the history keeps its newest 50.

        :param kind: ``songs`` (``item_id`` a catalog id), ``library-songs`` (a library id) or
            ``music-videos`` (a catalog id).
        """
        if kind in ("songs", "music-videos"):
            known = self.resolves(kind, item_id)
        elif kind == "library-songs":
            known = item_id in self.collections["library-songs"]
        else:
            raise ValueError(f"kind must be songs, library-songs or music-videos, got {kind!r}")
        if not known:
            raise ValueError(f"no {kind} {item_id!r}")
        entry = (kind, item_id)
        self.played = [entry, *(e for e in self.played if e != entry)][: HISTORY_CAPS[RECENTLY_PLAYED]]

    def _catalog_item(self, kind: str, catalog_id: str) -> LibraryItem:
        """A catalog resource as an entry of a history (rendered by :meth:`catalog_resource`)."""
        return LibraryItem(catalog_id, catalog_id, self.catalog[kind][catalog_id], type=kind)

    def _history(self, resource: str) -> Collection:
        """The view a history listing pages: newest first, at most ``HISTORY_CAPS[resource]``."""
        if resource == RECENTLY_ADDED:
            albums, playlists = self.collections["library-albums"], self.collections["library-playlists"]
            version = (albums.version, playlists.version)
            if self._recently_added is None or self._recently_added[0] != version:
                newest = heapq.nlargest(
                    HISTORY_CAPS[RECENTLY_ADDED],
                    (*albums.items.values(), *playlists.items.values()),
                    key=lambda item: (item.added or ADDED_EPOCH - dt.timedelta(days=36500), item.library_id),
                )
                view = Collection(RECENTLY_ADDED, by_name=False)
                for item in newest:
                    view.add(item)
                self._recently_added = (version, view)
            return self._recently_added[1]
        view = Collection(resource, by_name=False)
        for kind, item_id in self._entries(resource):
            if kind == "library-songs":
                song = self.collections[kind].items.get(item_id)
                if song is not None:  # a song taken out of the library leaves the history
                    view.add(song)
            elif item_id in self.catalog[kind]:
                view.add(self._catalog_item(kind, item_id))
        return view

    def _change_history(self, resource: str, add: int, remove: int) -> tuple[list[str], list[str]]:
        """
        ``recently-added``: add fresh albums now (so they come first) and remove visible
        entries from the library; the others: put fresh entries at the front and drop visible
        ones from the history.
        """
        if resource == RECENTLY_ADDED:
            now = dt.datetime.now(dt.timezone.utc)
            added = [self.add_album(self.make_catalog_album(), now).library_id for _ in range(add)]
            visible = [i for i in self._history(resource).visible() if i.library_id not in added]
            removed = self.rng.sample(visible, min(remove, len(visible)))
            for item in removed:
                self.remove_item(item.type, item.library_id)
            return added, [item.library_id for item in removed]
        entries = self._entries(resource)
        fresh = [e for e in (self._fresh_history_entry(resource) for _ in range(add)) if e is not None]
        entries[:0] = fresh
        visible_ids = {i.library_id for i in self._history(resource).visible()}
        candidates = [e for e in entries if e not in fresh and e[1] in visible_ids]
        dropped = self.history_rng.sample(candidates, min(remove, len(candidates)))
        kept = [e for e in entries if e not in dropped][: HISTORY_CAPS[resource]]
        entries[:] = kept
        return [e[1] for e in fresh], [e[1] for e in dropped]

    # -- reading -----------------------------------------------------------------------

    def listing(self, resource: str, parent_id: str | None = None) -> Collection | None:
        """The collection a listing pages (None: no such playlist); a history's current view."""
        if resource == PLAYLIST_TRACKS:
            return None if parent_id in self.unpublished else self.tracks.get(str(parent_id))
        if resource in HISTORIES:
            return self._history(resource)
        return self.collections[resource]

    def catalog_resource(self, kind: str, catalog_id: str, storefront: str) -> dict[str, Any]:
        """A catalog resource as the service returns it."""
        return {
            "id": catalog_id,
            "type": kind,
            "href": f"/v1/catalog/{storefront}/{kind}/{catalog_id}",
            "attributes": self.catalog[kind][catalog_id],
        }

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
        if item.type in self.catalog:
            return self.catalog_resource(item.type, item.library_id, "us")
        kind = KINDS[item.type].catalog_kind
        if not include_catalog or kind is None:
            body = item.resource(None, extend)
        elif item.catalog_id is None:
            body = item.resource(None, extend, unlinked=True)
        else:
            body = item.resource(self.catalog_resource(kind, item.catalog_id, "us"), extend)
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

    def album_resource(
        self, album: LibraryItem, include_catalog: bool, extend: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The album as a listing returns it, given ``include=catalog`` and ``extend``."""
        return self.item_resource(album, include_catalog, extend)

    def visible_albums(self) -> list[LibraryItem]:
        """Every album a client can see, in the service's order."""
        return self.collections["library-albums"].visible()

    def playlists_with_tracks(self) -> Iterator[tuple[LibraryItem, int]]:
        """Each visible playlist, in listing order, with its number of tracks."""
        for playlist in self.collections["library-playlists"].visible():
            yield playlist, len(self.tracks.get(playlist.library_id, ()))
