"""
The emulated catalog: its items generated from a seed, their ids, names, ISRCs and UPCs.

:class:`Catalog` owns the random generator that the whole library a seed gives is drawn from
(:attr:`Catalog.rng`, shared with :class:`~airflow_provider_applemusic.emulator.library.Library`)
and the set of ids used so far, so catalog and library ids never collide.

Catalog songs carry an ``isrc`` and catalog albums a ``upc`` (12 digits, every :data:`EAN_EVERY`
th a 13-digit EAN), indexed by :class:`CodeIndex` for the catalog's ``filter[isrc]`` /
``filter[upc]`` look-ups; every :data:`SHARED_CODE_EVERY` th code is shared by several catalog
items (a single and its album versions, editions of an album). Both are derived from the
catalog id, never drawn from :attr:`Catalog.rng`, so a seed gives the same library as before
codes existed. Some catalog ids are withdrawn (:attr:`Catalog.withdrawn`): library items still
point at them, the catalog no longer resolves them.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.kinds import CATALOG_TYPES, CODE_ATTRIBUTE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

ADJECTIVES = tuple(
    "Blue Golden Silent Electric Wild Broken Velvet Midnight Northern Paper Hidden Burning Crystal"
    " Lonely Neon Radiant Frozen Endless".split()
)
NOUNS = tuple(
    "River Hearts Machine Summer Garden Highway Echoes Stars Ocean Letters Mountain City Dreams Fire"
    " Shadows Horizon Signal Roses".split()
)
UNICODE_WORDS = ("Été", "Über", "Café", "Niño", "東京", "Ωmega", "Søndag", "Jalapeño", "Ça")
ARTISTS = tuple(
    "Bruce Springsteen|Bob Dylan|Sam Smith|Lana Del Rey|Katy Perry|Ed Sheeran|Sigur Rós|Björk|Beyoncé"
    "|Ukraine National Symphony Orchestra|The Beatles|Mø|Daft Punk|Rosalía|Michael de Jong".split("|")
)
GENRES = ("Rock", "Pop", "Alternative", "Classical", "Electronic", "Hip-Hop/Rap", "Jazz", "Folk")
BASE62 = string.ascii_letters + string.digits
_BASE62_BYTES = bytes(ord(BASE62[b % len(BASE62)]) for b in range(256))
#: additions are spread over this year, so daily backfill windows find some each day
ADDED_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
ADDED_SPAN_SECONDS = 366 * 24 * 3600
#: every Nth distinct ISRC (and UPC) is shared by several catalog items
SHARED_CODE_EVERY = 10
#: at most this many catalog items share one code: songs (single and album versions),
#: albums (editions)
MAX_SHARING = {"songs": 3, "albums": 2}
#: every Nth catalog album carries a 13-digit EAN instead of a 12-digit UPC
EAN_EVERY = 7
_ISRC_COUNTRIES = ("US", "GB", "FR", "DE", "SE", "JP", "CA", "NL", "QM")
LABELS = ("Columbia", "Parlophone", "XL Recordings", "Warp Records", "One Little Independent", "Sub Pop")
COMPOSERS = (
    "Max Martin",
    "Björk Guðmundsdóttir",
    "Lana Del Rey & Rick Nowels",
    "Thomas Bangalter",
    "Ed Sheeran",
)
#: the catalog's ``audioTraits``, most common first
AUDIO_TRAITS = (
    ["lossless", "lossy-stereo"],
    ["lossy-stereo"],
    ["atmos", "lossless", "lossy-stereo", "spatial"],
)


def details(kind: str, catalog_id: str) -> dict[str, Any]:
    """
    Attributes of catalog albums and songs that only the catalog has (``recordLabel``,
    ``copyright``, ``composerName``, ``audioTraits``, a song's ``contentRating``), derived from
    the id, never drawn from :attr:`Catalog.rng`: a seed gives the same library as before.
    """
    rng = random.Random(f"details:{kind}:{catalog_id}")
    found: dict[str, Any] = {"audioTraits": list(rng.choices(AUDIO_TRAITS, weights=(6, 3, 1))[0])}
    if kind == "albums":
        label = rng.choice(LABELS)
        found.update(recordLabel=label, copyright=f"℗ {rng.randint(1970, 2023)} {label}")
    elif rng.random() < 0.7:  # songs: not every song names its composers
        found["composerName"] = rng.choice(COMPOSERS)
    if kind == "songs" and rng.random() < 0.1:
        found["contentRating"] = "explicit"
    return found


def album_name(rng: random.Random) -> str:
    """An album name: articles, lower case, non-ASCII and editions included."""
    roll = rng.random()
    adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
    if roll < 0.15:
        name = f"The {adjective} {noun}"
    elif roll < 0.22:
        name = f"A {noun} of {rng.choice(NOUNS)}"
    elif roll < 0.30:
        name = f"{adjective.lower()} {noun.lower()}"
    elif roll < 0.38:
        name = f"{rng.choice(UNICODE_WORDS)} {noun}"
    else:
        name = f"{adjective} {noun}"
    if rng.random() < 0.2:
        name += rng.choice([" (Deluxe Edition)", " (Remastered)", " (Live)", " - EP"])
    return name


def title(rng: random.Random) -> str:
    """A song, video or playlist name: articles, lower case and non-ASCII included."""
    roll = rng.random()
    adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
    if roll < 0.15:
        return f"The {adjective} {noun}"
    if roll < 0.22:
        return f"An {adjective} {noun}"
    if roll < 0.30:
        return f"{adjective.lower()} {noun.lower()}"
    if roll < 0.38:
        return f"{rng.choice(UNICODE_WORDS)} {noun}"
    return f"{adjective} {noun}"


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


class Catalog:
    """
    The catalog of one user's storefront: attributes by catalog type and id (``stations`` too,
    seen only in ``recent/played``), codes, withdrawn ids; not thread-safe (the server locks).
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        #: the generator of the catalog and of the library a seed gives
        self.rng = random.Random(seed)
        self.items: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in (*CATALOG_TYPES, "stations")}
        #: catalog ids by ISRC (``songs``) and by UPC (``albums``)
        self.codes = {kind: CodeIndex(SHARED_CODE_EVERY, MAX_SHARING[kind]) for kind in CODE_ATTRIBUTE}
        #: catalog ids the catalog no longer resolves, by catalog type (library items still point
        #: at them)
        self.withdrawn: dict[str, set[str]] = {kind: set() for kind in CATALOG_TYPES}
        self._used_ids: set[str] = set()

    # -- identifiers -------------------------------------------------------------------

    def new_id(self, prefix: str, alphabet: str, length: int) -> str:
        """A fresh id: ``prefix`` and ``length`` characters of ``alphabet``, one draw each."""
        while True:
            value = prefix + "".join(self.rng.choice(alphabet) for _ in range(length))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def new_fast_id(self, prefix: str, length: int) -> str:
        """A fresh base-62 id in one draw, so large libraries build fast (albums use :meth:`new_id`)."""
        while True:
            value = prefix + self.rng.randbytes(length).translate(_BASE62_BYTES).decode("ascii")
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def new_catalog_id(self, kind: str) -> str:
        """A fresh catalog id of the service's shape for ``kind``."""
        if kind == "playlists":
            if self.rng.random() < 0.5:
                return self.new_id("pl.u-", BASE62, 14)
            return self.new_id("pl.", "0123456789abcdef", 32)
        if kind == "albums":
            return self.new_id(str(self.rng.randint(1, 9)), string.digits, 9)
        while True:
            value = str(self.rng.randrange(1_000_000_000, 10_000_000_000))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    # -- generation --------------------------------------------------------------------

    def make_album(self) -> str:
        """Create a catalog album and return its id."""
        rng = self.rng
        catalog_id = self.new_catalog_id("albums")
        release = ADDED_EPOCH - dt.timedelta(days=rng.randint(30, 20000))
        attributes: dict[str, Any] = {
            "artistName": rng.choice(ARTISTS),
            "name": album_name(rng),
            "trackCount": rng.randint(1, 24),
            "genreNames": [*rng.sample(GENRES, rng.randint(1, 2)), "Music"],
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
        attributes.update(details("albums", catalog_id))
        self.items["albums"][catalog_id] = attributes
        return catalog_id

    def make_item(self, kind: str) -> str:
        """Create a catalog song, playlist or music video and return its id."""
        rng = self.rng
        catalog_id = self.new_catalog_id(kind)
        attributes: dict[str, Any] = {
            "name": title(rng),
            "url": f"https://music.apple.com/us/{kind}/{catalog_id}",
        }
        if kind == "playlists":
            attributes["curatorName"] = "Apple Music"
            attributes["playParams"] = {"id": catalog_id, "kind": "playlist"}
            if rng.random() < 0.6:
                attributes["description"] = {"standard": f"The best of {rng.choice(ARTISTS)}."}
        else:
            attributes["artistName"] = rng.choice(ARTISTS)
            attributes["genreNames"] = [rng.choice(GENRES), "Music"]
            attributes["durationInMillis"] = rng.randint(60_000, 600_000)
            attributes["playParams"] = {"id": catalog_id, "kind": "song" if kind == "songs" else "musicVideo"}
            if kind == "songs":
                attributes["albumName"] = album_name(rng)
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
                attributes.update(details("songs", catalog_id))
        self.items[kind][catalog_id] = attributes
        return catalog_id

    def make_station(self, rng: random.Random) -> str:
        """A catalog radio station (only ever seen in ``recent/played``), drawn with ``rng``; its id."""
        station_id = "ra." + str(rng.randrange(100_000_000, 2_000_000_000))
        artist = rng.choice(ARTISTS)
        self.items["stations"][station_id] = {
            "name": f"{artist} Radio" if rng.random() < 0.7 else f"{rng.choice(GENRES)} Station",
            "isLive": False,
            "url": f"https://music.apple.com/us/station/{station_id}",
            "playParams": {"id": station_id, "kind": "radioStation", "format": "stream"},
        }
        return station_id

    def _give_code(
        self, kind: str, catalog_id: str, attributes: dict[str, Any], fresh: Callable[[int], str]
    ) -> None:
        """
        Set the item's ISRC or UPC (names stay as generated, so a seed lists the library in the
        same order as before codes existed).
        """
        attributes[CODE_ATTRIBUTE[kind]] = self.codes[kind].assign(catalog_id, fresh)[0]

    # -- reading -----------------------------------------------------------------------

    def resolves(self, kind: str, catalog_id: str) -> bool:
        """The catalog knows ``catalog_id`` of ``kind`` and has not withdrawn it."""
        return catalog_id in self.items[kind] and catalog_id not in self.withdrawn.get(kind, ())

    def resource(self, kind: str, catalog_id: str, storefront: str) -> dict[str, Any]:
        """A catalog resource as the service returns it."""
        return {
            "id": catalog_id,
            "type": kind,
            "href": f"/v1/catalog/{storefront}/{kind}/{catalog_id}",
            "attributes": self.items[kind][catalog_id],
        }

    def ids(self, kind: str, owned: dict[str, str], in_library: bool) -> list[str]:
        """The ids of ``kind`` it resolves, in ``owned`` (a library's ``in_library``) or not, as made."""
        withdrawn = self.withdrawn[kind]
        return [cid for cid in self.items[kind] if (cid in owned) == in_library and cid not in withdrawn]

    def find_codes(
        self, kind: str, owned: dict[str, str], ambiguous: bool | None, in_library: bool | None
    ) -> list[str]:
        """
        The codes of ``kind`` (``songs``: ISRCs, ``albums``: UPCs) with an item it resolves, in
        the order made, filtered by ``ambiguous`` (several such items, or one) and
        ``in_library`` (one of them in ``owned``, or none); None: either.
        """
        found = []
        for code, every_id in self.codes[kind].ids.items():
            ids = [i for i in every_id if i not in self.withdrawn[kind]]
            if (
                ids
                and (ambiguous is None or (len(ids) > 1) == ambiguous)
                and (in_library is None or any(i in owned for i in ids) == in_library)
            ):
                found.append(code)
        return found

    def with_code(self, kind: str, code: str) -> list[str]:
        """The ids of ``kind`` with this code (exactly as given) it resolves, in the order made."""
        return [i for i in self.codes[kind].ids.get(code, ()) if self.resolves(kind, i)]
