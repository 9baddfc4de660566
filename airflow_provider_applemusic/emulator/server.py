"""
AppleMusicEmulator: the Apple Music API on a loopback socket, quirks and faults included.

HTTP, routes and quirks live here; the generated catalog and library (one collection per
listing) live in :mod:`airflow_provider_applemusic.emulator.data`. Every library listing
(albums, songs, artists, playlists, music videos, a playlist's tracks) and each history
(recently added, recently played tracks, heavy rotation) goes through one handler,
:meth:`AppleMusicEmulator._listing`, so each has the same quirks.

The writes a migration pipeline makes are served too: catalog look-ups by ISRC and UPC
(``filter[isrc]`` / ``filter[upc]``, at most :data:`CODE_BATCH_LIMIT` codes a request),
playlist creation (``POST /v1/me/library/playlists``, visible after ``playlist_delay``) and
appending tracks (``POST /v1/me/library/playlists/{id}/tracks``, only to ``canEdit``
playlists), with the ``500_applied`` fault: carried out, answered 500.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Sequence

from airflow_provider_applemusic.emulator.data import (
    CATALOG_TYPES,
    CODE_ATTRIBUTE,
    DEFAULT_PLAYED_TYPES,
    HEAVY_ROTATION,
    KIND_BY_SEGMENT,
    KINDS,
    LIBRARY_TYPE,
    LISTING_RESOURCES,
    PAGE_LIMITS,
    PLAYED_TYPES,
    PLAYLIST_TRACKS,
    RATING_KINDS,
    RECENTLY_ADDED,
    RECENTLY_PLAYED,
    RECENTLY_PLAYED_RESOURCES,
    Collection,
    Library,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

#: the documented maximum is 15,777,000 s; tokens over about 180 days are refused in practice
MAX_TOKEN_LIFETIME_SECONDS = 15_552_000
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
FAULT_KINDS = (
    "404",
    "429",
    "500",
    "500_applied",
    "500_html",
    "503",
    "504",
    "504_html",
    "drop",
    "slow",
    "truncate",
    "no_data",
    "not_json",
)
#: codes a ``filter[isrc]`` / ``filter[upc]`` look-up takes at most. Apple documents no limit;
#: 25 is the provider's choice (short URLs, small answers when one ISRC maps to several songs),
#: enforced here so a client that sends more is caught: 400 naming the filter.
CODE_BATCH_LIMIT = 25
#: the catalog filter each catalog type accepts
CODE_FILTERS = {kind: f"filter[{attribute}]" for kind, attribute in CODE_ATTRIBUTE.items()}
#: request bodies larger than this answer 413
MAX_BODY_BYTES = 1 << 20
#: ids a ``/v1/me/ratings/{kind}`` request takes at most (more: 400 naming ``ids``)
RATINGS_BATCH_LIMIT = 200
PLAYLISTS_PATH = "/v1/me/library/playlists"
#: track types a playlist write accepts: ``library-songs`` for an ``i.`` id, ``songs`` for a
#: catalog (numeric) id
TRACK_TYPES = ("songs", "library-songs")
#: a well-formed ``l`` (language tag) by BCP 47's grammar: language, optional script (4 letters),
#: optional region (2 letters or 3 digits), variants (5 to 8, or a digit and 3); a malformed one
#: answers 400 naming ``l`` (so does ``en-U1``, whose region is neither letters nor digits)
LANGUAGE_TAG = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"
)
#: the rating kinds that answer 400 "Invalid Path Value" (40008): artists have no ratings, and
#: singular kinds (``song``) are not paths
INVALID_RATING_KINDS = frozenset(
    {
        "artists",
        "library-artists",
        *(kind[:-1] for kind in (*RATING_KINDS, "stations", "artists", "library-artists")),
    }
)
#: the size an HTML error page is padded to, like the service's gateway pages
HTML_ERROR_BYTES = 2048
LIBRARY_PREFIX = "/v1/me/library/"
#: the emulator's own control path (not part of the API): apply library changes
CONTROL_CHANGES_PATH = "/emulator/changes"
#: the history listings outside ``/v1/me/library/``, by path
#: users' seeds are this far apart, so every user's library differs from every other's
USER_SEED_STRIDE = 1_000_003
HISTORY_PATHS = {
    "/v1/me/recent/played/tracks": RECENTLY_PLAYED,
    "/v1/me/history/heavy-rotation": HEAVY_ROTATION,
    "/v1/me/recent/played": RECENTLY_PLAYED_RESOURCES,
}


@dataclass
class EmulatorStats:
    """What the emulator saw; read it from tests and benchmarks."""

    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    page_sizes: collections.Counter[int] = field(default_factory=collections.Counter)
    paths: collections.Counter[str] = field(default_factory=collections.Counter)
    dropped: int = 0
    posts: int = 0
    #: one entry per library listing page asked for (histories included): its offset and its
    #: ``extend`` (None: absent)
    library_pages: list[tuple[int, str | None]] = field(default_factory=list)
    #: library listing requests by path (``/v1/me/library/songs``, a playlist's tracks, ...)
    listing_paths: collections.Counter[str] = field(default_factory=collections.Counter)
    #: playlist writes carried out (answered 2xx or by ``500_applied``): ``create`` and
    #: ``append``
    playlist_writes: collections.Counter[str] = field(default_factory=collections.Counter)
    #: requests by the user whose Music User Token they carried (0 too for none or an unknown one)
    users: collections.Counter[int] = field(default_factory=collections.Counter)
    #: requests answered 429 (the rate limit or an injected ``429``), by developer Team ID
    throttled_by_team: collections.Counter[str] = field(default_factory=collections.Counter)
    #: ``time.monotonic()`` when the first request counted arrived and when the last one was answered
    first_request_at: float | None = None
    last_response_at: float | None = None

    def accepted_rate(self) -> float:
        """Requests a second not answered 429, from the first request to the last answer."""
        if self.first_request_at is None or self.last_response_at is None:
            return 0.0
        elapsed = self.last_response_at - self.first_request_at
        accepted = sum(self.statuses.values()) - self.statuses[429]
        return accepted / elapsed if elapsed > 0 else 0.0


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate: bool = False


@dataclass
class _User:
    """One user of the developer key: a Music User Token, a library, the library's pending changes."""

    token: str
    library: Library
    #: adds not visible yet: ``(monotonic time due, kind, catalog id)``
    pending: list[tuple[float, str, str]] = field(default_factory=list)
    #: created playlists not visible yet: ``(monotonic time due, library id)``
    pending_playlists: list[tuple[float, str]] = field(default_factory=list)


def user_seed(seed: int, user: int) -> int:
    """The seed of user ``user``'s library: user 0 has the emulator's own seed."""
    return seed + USER_SEED_STRIDE * user


def _error(status: int, title: str, detail: str, code: str, parameter: str | None = None) -> _Response:
    error: dict[str, Any] = {
        "id": str(uuid.uuid4()).upper(),
        "title": title,
        "detail": detail,
        "status": str(status),
        "code": code,
    }
    if parameter:
        error["source"] = {"parameter": parameter}
    return _Response(status, json.dumps({"errors": [error]}).encode())


def _json(status: int, payload: Any) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


_HTML_MESSAGES = {
    500: "The server encountered an internal error.",
    503: "The service is temporarily unavailable.",
    504: "The server didn't respond in time.",
}


def _html_error(status: int) -> _Response:
    """A 5xx answered with an HTML page (``text/html``, a correlation key, about 2 KB), not JSON."""
    reason = _REASONS.get(status, "Error")
    head = (
        f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body>"
        f"<h1>{reason}</h1><p>{_HTML_MESSAGES.get(status, 'Something went wrong.')}</p>"
        f"<p>Correlation Key: {uuid.uuid4().hex.upper()}</p>"
    )
    tail = "</body></html>"
    padding = max(0, HTML_ERROR_BYTES - len(head) - len(tail) - len("<!--  -->"))
    body = f"{head}<!-- {'.' * padding} -->{tail}"
    return _Response(status, body.encode("ascii"), {"Content-Type": "text/html; charset=UTF-8"})


class AppleMusicEmulator:
    """
    An Apple Music API emulator serving real HTTP on a loopback port, for tests and demos.

    Use it as a context manager; it serves from a background thread::

        with AppleMusicEmulator(albums=500) as emu:
            os.environ["AIRFLOW_CONN_APPLE_MUSIC_DEFAULT"] = emu.connection_json()

    It checks developer tokens (ES256 signature, ``kid``, ``iss``, ``iat``, ``exp``, lifetime)
    and the Music User Token like the service, and reproduces its quirks on every library
    listing (albums, songs, artists, playlists, a playlist's tracks, music videos): ``next``
    with ``offset`` only (no ``limit``, ``include``, ``extend``), short pages while ``next`` is
    present (``hidden_every``), alphabetical order ignoring articles and case (a playlist's
    tracks: playlist order), 404 for an empty listing, ``dateAdded`` only with
    ``extend=dateAdded``, optional attributes missing, 202 then ``add_delay`` seconds before
    added items appear, unknown ids silently ignored.

    The histories page through the same handler with smaller page maxima (a larger ``limit``
    answers 400 naming ``limit``; default limit 10): ``/v1/me/library/recently-added``
    (library albums and playlists by the moment they were added, newest first, maximum 25 a
    page; it ends after the newest 150 entries however large the library, with
    ``meta.total``), ``/v1/me/recent/played/tracks`` (newest first, maximum 30 a page, at most
    50, no play times, no ``meta.total``, de-duplicated: see ``history``; without ``types``
    only catalog ``songs`` come back, ``types=songs,library-songs`` adds the library songs,
    each entry at its position in the whole history, so pages of entries of other types come
    back short while ``next`` is present; music-video plays come back whatever ``types``
    says, as ``{id, type, href}`` only; ``library-songs`` entries carry no ``isrc`` nor
    ``url``), ``/v1/me/recent/played`` (catalog ``albums``, ``playlists`` and ``stations``,
    maximum 10 a page, at most 50, no ``meta.total``) and ``/v1/me/history/heavy-rotation``
    (catalog ``albums`` and ``playlists``, maximum 10 a page, at most 20, no
    ``meta.total``). Like the library they need the Music User Token and a subscription; an
    empty history answers 404.

    Migration writes: ``GET /v1/catalog/{sf}/songs?filter[isrc]=A,B`` and
    ``/albums?filter[upc]=X,Y`` answer the catalog items with those codes (matched exactly as
    sent; unknown codes absent, 200 with empty ``data`` when none match; some ISRCs map to
    several songs, some UPCs to two albums), at most :data:`CODE_BATCH_LIMIT` codes a request
    (400 naming the filter), never with ``ids``. ``POST /v1/me/library/playlists`` (JSON body:
    ``attributes.name``, optional ``attributes.description``, optional
    ``relationships.tracks.data``) answers 201 with the new library playlist (``canEdit``),
    which appears in the listings and by id only ``playlist_delay`` seconds later (404 until
    then, appending to it included). ``POST /v1/me/library/playlists/{id}/tracks`` (body
    ``{"data": [{"id", "type": "songs" | "library-songs"}]}``) appends in order, duplicates
    kept, library and catalog songs mixed, adding catalog songs to the library, and answers
    204; a playlist without ``canEdit`` answers 403. In both, each item must be typed for its
    id, ``library-songs`` for an ``i.`` id and ``songs`` for a numeric one: an item typed
    otherwise answers 400 (code 40005, ``source.parameter`` naming it, e.g. ``data[3].type``)
    and nothing of the request is applied; ids the service does not know are skipped
    silently; a body that is not JSON or not of that shape answers 400, PUT 405, a trailing
    slash 400. An undocumented ``attributes.isPublic`` on creation publishes the playlist.

    Ratings: ``GET /v1/me/ratings/{kind}?ids=A,B`` (``kind`` a catalog type, ``albums``,
    ``songs``, ``playlists``, ``music-videos``, or its library type, ``library-albums``, ...;
    at most :data:`RATINGS_BATCH_LIMIT` ids, more answer 400 naming ``ids``) answers 200 with
    one ``{"id", "type": "ratings", "attributes": {"value": 1 or -1}}`` per rated id; unrated
    and unknown ids are absent (none rated: 200 with empty ``data``). Each user's ratings are
    drawn from the seed (about 30 % of the library, most loved); a library item shares its
    catalog item's rating. :meth:`ratings` reads them, :meth:`rate` sets them. Artists have no
    ratings: ``/v1/me/ratings/artists`` and ``library-artists`` (any method, with or without an
    id) answer 400 code 40008 "Invalid Path Value", like a singular kind (``song``).

    Playlists: a library playlist carries ``canEdit``, ``canDelete``, ``isPublic``,
    ``hasCollaboration``, ``hasCatalog``, ``lastModifiedDate``, ``description.standard``
    (when described) and ``playParams`` ``{id, kind, isLibrary, globalId (pl.u-…, a playlist
    ever shared), versionHash}``, no track count. Its tracks can hold one library song at
    several positions (``playlist_repeats``, :meth:`make_playlist`); an entry is its position.
    Fetched by id with ``include=tracks`` it carries the tracks at its first
    ``relationship_limit`` positions under ``relationships.tracks.data`` (hidden ones left
    out), ``relationships.tracks.meta.total`` (every position) and, when there are more,
    ``relationships.tracks.next`` (``{playlist}/tracks?offset=N``). ``include=tracks`` on the
    playlists listing answers 400 (code 40005, naming ``include``).

    Language: ``l`` on any request must be a well-formed tag (``en``, ``en-US``,
    ``zh-Hant-TW``: :data:`LANGUAGE_TAG`), else 400 code 40005 naming ``l``; a well-formed tag
    the storefront lacks is ignored.

    Real libraries: some library songs have no ``playParams`` (removed from the service: no
    catalog id, an empty catalog relationship, some without ``artistName`` or ``albumName``),
    and some albums, songs and music videos point at catalog ids the catalog no longer
    resolves (left out of catalog multi-fetches and ``filter`` look-ups, 404 on
    ``GET /v1/catalog/{sf}/{type}/{id}``, ignored by ``POST /v1/me/library``):
    :meth:`songs_without_play_params`, :meth:`withdrawn_ids`.

    Developer keys: the emulator's own key (:attr:`key_id`, :attr:`team_id`) and any added with
    :meth:`add_developer_key`; a token must be signed by a registered key and carry that key's
    team as ``iss``. The rate limit is one per team.

    :param albums: library albums to generate.
    :param songs: library songs to generate (every 20th an upload, without catalog id).
    :param artists: library artists to generate.
    :param playlists: library playlists to generate (every 4th made by the app: ``canEdit``).
    :param music_videos: library music videos to generate.
    :param playlist_tracks: average tracks per playlist; every third playlist has none.
    :param history: plays in the play history (``recent/played/tracks``), at most 50; drawn
        from the seed, about one in four a library song, about one in 12 a music video, no
        entry twice. :meth:`play` adds to it. As many recently played resources
        (``recent/played``), at most 50.
    :param heavy_rotation: catalog albums and playlists in heavy rotation, at most 20.
    :param playlist_delay: seconds before a playlist created through the API appears in the
        listings and by id.
    :param seed: seed of the generated library, catalog, key and tokens.
    :param latency_ms: added latency of every response.
    :param rate_limit: requests a second of a developer team above which it answers 429
        without ``Retry-After``: one limit per Team ID (the token's ``iss``) across all its keys
        (:meth:`add_developer_key`), users and connections, like the service's limit per
        developer account; another team has a limit of its own (requests refused with 429 or
        401 do not count). :attr:`EmulatorStats.throttled_by_team` counts the 429s by team.
    :param fail_every: every Nth request answers 500 with code 50001 (0: never).
    :param html_error_bodies: the ``fail_every`` 500s and the ``503`` and ``504`` faults come
        as HTML pages (``text/html``, about 2 KB, a correlation key) instead of JSON, as the
        service's gateways answer; the ``500_html`` and ``504_html`` faults always do.
    :param drop_every: every Nth request has its connection dropped without an answer (0: never).
    :param hidden_every: every Nth item of each listing is hidden: pages come back short,
        ``next`` present.
    :param add_delay: seconds before added items appear in the library.
    :param change_every: every Nth page served of a listing, one item is added to that
        listing's collection and one removed.
    :param retry_after: when set, 429s carry ``Retry-After`` with this many seconds.
    :param truncate_every: every Nth library listing page past offset 0 answers 404, a transient
        truncation (0: never).
    :param user_token_refusal: the status (401 or 403) a revoked Music User Token gets on
        ``/v1/me/...`` (:meth:`revoke_user_token`); the service has been seen to answer both.
    :param no_subscription: the account has no Apple Music subscription: library calls answer
        403 "Insufficient Privileges" (code 40015).
    :param song_listings_missing: the account does not serve song listings, as reported for
        some accounts: ``GET /v1/me/library/songs`` and ``GET /v1/me/library/playlists/{id}/tracks``
        answer 404 (code 40400, the body of an empty collection) whatever the library holds,
        while ``GET /v1/me/library/playlists/{id}?include=tracks`` still carries the tracks.
    :param relationship_limit: the most tracks ``include=tracks`` puts inline in a playlist's
        ``relationships.tracks`` (default 100, as the service; 0: all of them, no ``next``).
    :param playlist_repeats: generated playlists of 3 tracks or more hold some songs at several
        positions (about one entry in 15 repeats a song earlier in the playlist, from the seed),
        as users' playlists do.
    :param recently_played_short_every: every Nth page served of ``recent/played/tracks``
        comes back 2 entries short while ``next`` is present (those entries are hidden for that
        page), as reported (0: never).
    :param songs_without_play_params_every: every Nth generated library song that is not an
        upload has no ``playParams`` (removed from the service: no catalog id, no catalog
        song with ``include=catalog``; some also lack ``artistName`` or ``albumName``) (0: none).
    :param withdrawn_every: every Nth generated library album, song and music video with a
        catalog id points (``playParams.catalogId``, ``relationships.catalog``) at a catalog id
        the catalog no longer resolves (0: none).
    :param host: address to bind (loopback).
    :param port: port to bind (0: any free port).
    :param users: users of the one developer key, each with its own Music User Token
        (:meth:`user_token_of`) and its own library of the sizes above (generated from
        :func:`user_seed`). Requests act on the library of the user whose token they carry.
        User 0 is the emulator's :attr:`user_token` and library; the helpers act on user 0
        unless given ``user``; :meth:`revoke_user_token`, :meth:`change_library` and the
        other helpers without ``user`` concern user 0 only. Faults (:meth:`inject`,
        ``fail_every``, ...) and the rate limit apply to every user's requests.
    """

    def __init__(
        self,
        albums: int = 500,
        seed: int = 7,
        latency_ms: float = 0,
        rate_limit: float | None = None,
        fail_every: int = 0,
        drop_every: int = 0,
        hidden_every: int = 0,
        add_delay: float = 3.0,
        change_every: int = 0,
        retry_after: float | None = None,
        truncate_every: int = 0,
        user_token_refusal: int = 403,
        no_subscription: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        songs: int = 20,
        artists: int = 10,
        playlists: int = 5,
        music_videos: int = 5,
        playlist_tracks: int = 8,
        history: int = 30,
        heavy_rotation: int = 12,
        playlist_delay: float = 2.0,
        users: int = 1,
        song_listings_missing: bool = False,
        relationship_limit: int = 100,
        playlist_repeats: bool = True,
        recently_played_short_every: int = 0,
        html_error_bodies: bool = False,
        songs_without_play_params_every: int = 40,
        withdrawn_every: int = 30,
    ) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        self.latency_ms = latency_ms
        self.rate_limit = rate_limit
        self.fail_every = fail_every
        self.drop_every = drop_every
        self.add_delay = add_delay
        self.playlist_delay = playlist_delay
        self.change_every = change_every
        self.retry_after = retry_after
        if user_token_refusal not in (401, 403):
            raise ValueError(f"user_token_refusal must be 401 or 403, got {user_token_refusal!r}")
        if isinstance(users, bool) or not isinstance(users, int) or users < 1:
            raise ValueError(f"users must be an integer of at least 1, got {users!r}")
        self.truncate_every = truncate_every
        self.user_token_refusal = user_token_refusal
        self.no_subscription = no_subscription
        if (
            isinstance(relationship_limit, bool)
            or not isinstance(relationship_limit, int)
            or relationship_limit < 0
        ):
            raise ValueError(
                f"relationship_limit must be an integer of 0 or more, got {relationship_limit!r}"
            )
        for name, value in (
            ("recently_played_short_every", recently_played_short_every),
            ("songs_without_play_params_every", songs_without_play_params_every),
            ("withdrawn_every", withdrawn_every),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer of 0 or more, got {value!r}")
        self.song_listings_missing = song_listings_missing
        self.relationship_limit = relationship_limit
        self.playlist_repeats = playlist_repeats
        self.recently_played_short_every = recently_played_short_every
        self.html_error_bodies = html_error_bodies
        self.songs_without_play_params_every = songs_without_play_params_every
        self.withdrawn_every = withdrawn_every
        self.host = host
        self.port = port
        self.seed = seed
        digest = hashlib.sha256(f"apple-music-emulator:{seed}".encode()).hexdigest()
        self.team_id = "T" + digest[:9].upper()
        self.key_id = "K" + digest[9:18].upper()
        secret = int(digest, 16) % (2**255) + 1
        self._private_key = ec.derive_private_key(secret, ec.SECP256R1())
        self.public_key = self._private_key.public_key()
        self.private_key_pem = self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self._lock = threading.RLock()
        self._users: list[_User] = []
        for user in range(users):
            library = Library(
                seed=user_seed(seed, user),
                hidden_every=hidden_every,
                playlist_tracks=playlist_tracks,
                playlist_repeats=playlist_repeats,
                songs_without_play_params_every=songs_without_play_params_every,
                withdrawn_every=withdrawn_every,
            )
            library.populate(albums, songs, artists, playlists, music_videos)
            library.populate_history(history, heavy_rotation)
            library.populate_ratings()
            suffix = "" if user == 0 else f":{user}"
            token = "emu." + hashlib.sha256(f"user:{seed}{suffix}".encode()).hexdigest() * 2
            self._users.append(_User(token, library))
        self._user_by_token = {user.token: index for index, user in enumerate(self._users)}
        #: the user a request (or a helper) acts for; changed only under ``_lock``
        self._acting = 0
        self._seen_tokens: set[str] = set()
        self._revoked_tokens: set[str] = set()
        #: accepted tokens: ``(exp, team id)``
        self._valid_tokens: dict[str, tuple[float, str]] = {}
        self._user_token_revoked = False
        #: the developer keys accepted, by Key ID: ``(team id, public key)``
        self._keys: dict[str, tuple[str, Any]] = {self.key_id: (self.team_id, self.public_key)}
        #: accepted requests of the last second, by team: the rate limit's windows
        self._windows: dict[str, collections.deque[float]] = {}
        #: pages served of ``recent/played/tracks``, for ``recently_played_short_every``
        self._played_pages = 0
        self._faults: list[list[Any]] = []
        #: pages served by listing path, for ``change_every``
        self._pages_served: collections.Counter[str] = collections.Counter()
        self._listing_pages_past_zero = 0
        self.stats = EmulatorStats()
        #: monotonic times at which :meth:`restart` brought the emulator back
        self.restarts: list[float] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    # -- users ---------------------------------------------------------------------------

    @property
    def users(self) -> int:
        """How many users share the developer key."""
        return len(self._users)

    @property
    def user_token(self) -> str:
        """User 0's Music User Token."""
        return self._users[0].token

    def user_token_of(self, user: int) -> str:
        """The Music User Token of user ``user`` (0 to ``users - 1``)."""
        return self._users[self._user_index(user)].token

    def _user_index(self, user: int) -> int:
        if isinstance(user, bool) or not isinstance(user, int) or not 0 <= user < len(self._users):
            raise ValueError(f"user must be an integer from 0 to {len(self._users) - 1}, got {user!r}")
        return user

    @property
    def _library(self) -> Library:
        """The library of the user acting now (a request's, or a helper's ``user``)."""
        return self._users[self._acting].library

    @property
    def _pending(self) -> list[tuple[float, str, str]]:
        return self._users[self._acting].pending

    @_pending.setter
    def _pending(self, value: list[tuple[float, str, str]]) -> None:
        self._users[self._acting].pending = value

    @property
    def _pending_playlists(self) -> list[tuple[float, str]]:
        return self._users[self._acting].pending_playlists

    @_pending_playlists.setter
    def _pending_playlists(self, value: list[tuple[float, str]]) -> None:
        self._users[self._acting].pending_playlists = value

    @contextlib.contextmanager
    def _as_user(self, user: int) -> Iterator[None]:
        """Hold the lock and act for ``user``: ``_library`` and the pending changes are theirs."""
        with self._lock:
            previous, self._acting = self._acting, self._user_index(user)
            try:
                yield
            finally:
                self._acting = previous

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> AppleMusicEmulator:
        """Start serving in a background thread; returns once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(
                        self._serve_connection, self.host, self.port, limit=1 << 20, backlog=1024
                    )
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as err:  # noqa: BLE001 - handed to the starting thread
                failure.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="apple-music-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        self._loop = None
        self._thread = None

    def restart(self, *, lose_pending: bool = True) -> None:
        """Stop and start again on the same port; pending adds are lost, like a real restart."""
        self.stop()
        if lose_pending:
            with self._lock:
                for user in self._users:
                    user.pending.clear()
        self.start()
        self.restarts.append(time.monotonic())

    def __enter__(self) -> AppleMusicEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43210``."""
        return f"http://{self.host}:{self.port}"

    def connection_dict(self, user: int = 0) -> dict[str, Any]:
        """
        The ``apple_music`` connection of one user (default user 0) as Airflow's JSON form:
        every user's has the same developer key, and the user's own Music User Token.
        """
        return {
            "conn_type": "apple_music",
            "host": self.url,
            "login": self.team_id,
            "password": self.private_key_pem,
            "extra": {"key_id": self.key_id, "music_user_token": self.user_token_of(user)},
        }

    def add_developer_key(self, team_id: str | None = None) -> dict[str, Any]:
        """
        Register a further ES256 developer key (a new 10-character Key ID) the emulator accepts,
        as a team does when it rotates keys or has several; returns user 0's ``apple_music``
        connection like :meth:`connection_dict` but with this key's ``key_id``, ``team_id``
        (``login``) and private key (``password``): same users, same Music User Tokens.

        :param team_id: the key's Team ID, 10 letters and digits (None: the emulator's own
            :attr:`team_id`). Keys of one team share its rate limit; another team has its own.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        team = self.team_id if team_id is None else team_id
        if not isinstance(team, str) or not re.fullmatch(r"[A-Za-z0-9]{10}", team):
            raise ValueError(f"team_id must be 10 letters and digits, got {team_id!r}")
        with self._lock:
            number = len(self._keys)
            while True:
                digest = hashlib.sha256(f"apple-music-emulator:{self.seed}:key:{number}".encode()).hexdigest()
                key_id = "K" + digest[:9].upper()
                if key_id not in self._keys:
                    break
                number += 1
            private_key = ec.derive_private_key(int(digest, 16) % (2**255) + 1, ec.SECP256R1())
            self._keys[key_id] = (team, private_key.public_key())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        connection = self.connection_dict()
        connection["login"] = team
        connection["password"] = pem
        connection["extra"]["key_id"] = key_id
        return connection

    def connection_json(self, user: int = 0) -> str:
        """JSON for ``AIRFLOW_CONN_APPLE_MUSIC_DEFAULT`` (or a user's ``AIRFLOW_CONN_...``)."""
        return json.dumps(self.connection_dict(user))

    def connection_uri(self) -> str:
        """URI for ``AIRFLOW_CONN_APPLE_MUSIC_DEFAULT`` (``apple-music://http://...``)."""
        return (
            f"apple-music://{quote(self.team_id, safe='')}:{quote(self.private_key_pem, safe='')}"
            f"@{self.host}:{self.port}/?__extra__="
            + quote(json.dumps({"key_id": self.key_id, "music_user_token": self.user_token}), safe="")
        )

    def library(self, extend: tuple[str, ...] = ("dateAdded",), user: int = 0) -> list[dict[str, Any]]:
        """
        A user's visible library albums, in the API's order, as the API returns them to a
        request with ``extend`` (by default ``dateAdded``, which the hook always asks for).
        """
        with self._as_user(user):
            self._materialize()
            return [self._library.album_resource(a, False, extend) for a in self._library.visible_albums()]

    def library_items(
        self,
        resource: str,
        extend: tuple[str, ...] = ("dateAdded",),
        parent_id: str | None = None,
        include_catalog: bool = False,
        user: int = 0,
        types: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """
        The visible items of a user's listing, in the API's order, exactly as a listing request
        with ``extend`` (and ``include=catalog`` when ``include_catalog``) returns them.

        :param resource: one of ``library-albums``, ``library-songs``, ``library-artists``,
            ``library-playlists``, ``library-music-videos``, ``library-playlist-tracks``
            (every position, repeats included), ``recently-added``, ``recently-played-tracks``,
            ``heavy-rotation``, ``recently-played`` (newest first; catalog entries of the
            histories come as catalog resources, whatever ``extend``).
        :param parent_id: the playlist, for ``library-playlist-tracks``.
        :param user: whose library (default user 0).
        :param types: for ``recently-played-tracks``, the request's ``types`` (default: the whole
            history, as ``types=songs,library-songs`` returns it; ``("songs",)``: as a request
            without ``types``, catalog songs only); music videos come whatever ``types`` says.
        """
        if resource not in LISTING_RESOURCES:
            raise ValueError(f"resource must be one of {', '.join(LISTING_RESOURCES)}, got {resource!r}")
        wanted = self._played_types(",".join(types) if types is not None else ",".join(PLAYED_TYPES))
        with self._as_user(user):
            self._materialize()
            collection = self._library.listing(resource, parent_id)
            if collection is None:
                raise ValueError(f"no library playlist {parent_id!r}")
            return [
                self._library.item_resource(i, include_catalog, extend)
                for i in collection.visible()
                if resource != RECENTLY_PLAYED or i.type in wanted
            ]

    @staticmethod
    def _played_types(types: str | None) -> frozenset[str]:
        """The entry types ``recent/played/tracks`` returns for a ``types`` parameter (None: absent)."""
        named = DEFAULT_PLAYED_TYPES if types is None else tuple(t for t in types.split(",") if t)
        return frozenset({*named, "music-videos"} & set(PLAYED_TYPES))

    def play(self, kind: str, item_id: str) -> None:
        """
        Play a song: put it at the front of ``recent/played/tracks`` (moved there when already
        in the history, which keeps its newest 50).

        :param kind: ``songs`` (``item_id`` a catalog song id), ``library-songs`` (a library id)
            or ``music-videos`` (a catalog music video id).
        """
        with self._lock:
            self._materialize()
            self._library.play(kind, item_id)

    def ratings(self, kind: str, user: int = 0) -> dict[str, int]:
        """
        A user's rated items of ``kind`` (``albums``, ``songs``, ``playlists``, ``music-videos``
        or ``library-albums``, ``library-songs``, ...): ``{id: 1 (love) or -1 (dislike)}``.
        """
        with self._as_user(user):
            self._materialize()
            return self._library.rated(kind)

    def rate(self, kind: str, item_id: str, value: int | None, user: int = 0) -> None:
        """
        Rate an item as the user would: ``value`` 1 (love), -1 (dislike) or None (no rating).
        A library item and its catalog item share one rating.

        :param kind: a catalog type (``item_id`` a catalog id) or a library type (a library id).
        """
        with self._as_user(user):
            self._materialize()
            self._library.rate(kind, item_id, value)

    def playlist_ids(self, with_tracks: bool | None = None) -> list[str]:
        """
        The visible library playlists' ids in listing order: all of them, or only those with
        (``with_tracks=True``) or without (``False``) tracks.
        """
        with self._lock:
            self._materialize()
            return [
                playlist.library_id
                for playlist, count in self._library.playlists_with_tracks()
                if with_tracks is None or (count > 0) == with_tracks
            ]

    def catalog_ids(self, kind: str = "albums", in_library: bool = False, user: int = 0) -> list[str]:
        """
        Catalog ids of ``kind`` the catalog resolves: those not in a user's library, or
        (``in_library``) those in it (each user's library comes with a catalog of its own).
        Withdrawn ids (:meth:`withdrawn_ids`) are left out.
        """
        with self._as_user(user):
            self._materialize()
            owned = self._library.in_library[kind]
            withdrawn = self._library.withdrawn[kind]
            return [
                cid
                for cid in self._library.catalog[kind]
                if (cid in owned) == in_library and cid not in withdrawn
            ]

    def withdrawn_ids(self, kind: str = "songs", user: int = 0) -> list[str]:
        """
        The catalog ids of ``kind`` (``albums``, ``songs``, ``music-videos``) that visible items
        of a user's library point at but the catalog no longer resolves (``withdrawn_every``),
        in listing order.
        """
        if kind not in CATALOG_TYPES:
            raise ValueError(f"kind must be one of {', '.join(CATALOG_TYPES)}, got {kind!r}")
        with self._as_user(user):
            self._materialize()
            withdrawn = self._library.withdrawn[kind]
            return [
                item.catalog_id
                for item in self._library.collections[LIBRARY_TYPE[kind]].visible()
                if item.catalog_id is not None and item.catalog_id in withdrawn
            ]

    def songs_without_play_params(self, user: int = 0) -> list[str]:
        """
        The library ids of a user's visible library songs without ``playParams``
        (``songs_without_play_params_every``; uploads have theirs), in listing order.
        """
        with self._as_user(user):
            self._materialize()
            return [
                item.library_id
                for item in self._library.collections["library-songs"].visible()
                if "playParams" not in item.attributes
            ]

    def make_playlist(
        self,
        tracks: Sequence[str],
        *,
        name: str = "Emulated playlist",
        can_edit: bool = True,
        user: int = 0,
    ) -> str:
        """
        Create a visible library playlist of a user holding exactly these library song ids
        (``i.`` ids in that user's library), in this order, repeats kept; returns its ``p.`` id.
        It is listed at once, never hidden, and pages like any playlist's tracks.

        :param can_edit: made by this app (``canEdit``), else by the user in the Music app.
        """
        if isinstance(tracks, str):
            raise ValueError("tracks must be a sequence of library song ids, not one string")
        with self._as_user(user):
            self._materialize()
            return self._library.make_playlist(list(tracks), name, can_edit=can_edit).library_id

    def library_ids(self, kind: str = "albums") -> dict[str, str]:
        """``{catalog_id: library_id}`` of everything of ``kind`` in the library now."""
        with self._lock:
            self._materialize()
            return dict(self._library.in_library[kind])

    def _codes(self, kind: str, ambiguous: bool | None, in_library: bool | None) -> list[str]:
        with self._lock:
            self._materialize()
            owned = self._library.in_library[kind]
            found = []
            for code, every_id in self._library.codes[kind].ids.items():
                ids = [i for i in every_id if i not in self._library.withdrawn[kind]]
                if (
                    ids
                    and (ambiguous is None or (len(ids) > 1) == ambiguous)
                    and (in_library is None or any(i in owned for i in ids) == in_library)
                ):
                    found.append(code)
            return found

    def isrcs(self, ambiguous: bool | None = None, in_library: bool | None = None) -> list[str]:
        """
        The catalog's ISRCs, in the order the catalog made them: all, or only those shared by
        several songs (``ambiguous=True``) or by one (``False``); only those with at least one
        of their songs in the library (``in_library=True``) or none (``False``).
        """
        return self._codes("songs", ambiguous, in_library)

    def upcs(self, ambiguous: bool | None = None, in_library: bool | None = None) -> list[str]:
        """The catalog's UPCs and EANs, filtered like :meth:`isrcs` (albums instead of songs)."""
        return self._codes("albums", ambiguous, in_library)

    def songs_for_isrc(self, isrc: str) -> list[str]:
        """
        The catalog song ids with this ISRC (exactly as given), in catalog order, withdrawn ids
        left out; [] if none.
        """
        with self._lock:
            return [
                i
                for i in self._library.codes["songs"].ids.get(isrc, ())
                if self._library.resolves("songs", i)
            ]

    def albums_for_upc(self, upc: str) -> list[str]:
        """The catalog album ids with this UPC or EAN (exactly as given), withdrawn ids left out."""
        with self._lock:
            return [
                i
                for i in self._library.codes["albums"].ids.get(upc, ())
                if self._library.resolves("albums", i)
            ]

    def playlist_tracks(self, playlist_id: str) -> list[str]:
        """
        What a library playlist holds, in order, every position (a song the playlist repeats
        comes at each of its positions), each entry by the id it was added with: the catalog
        song id for a song appended by catalog id (``{"type": "songs"}``), else the library song
        id (generated playlists, :meth:`make_playlist`, ``{"type": "library-songs"}``). Also for
        a created playlist not visible yet.
        """
        with self._lock:
            tracks = self._library.tracks.get(playlist_id)
            if tracks is None:
                raise ValueError(f"no library playlist {playlist_id!r}")
            return tracks.added_ids()

    def created_playlists(self) -> list[dict[str, Any]]:
        """
        The playlists created through ``POST /v1/me/library/playlists``, in creation order:
        ``{"id", "name", "description" (str or None), "visible" (in the listings yet),
        "tracks" (as :meth:`playlist_tracks`)}``.
        """
        with self._lock:
            self._materialize()
            playlists = self._library.collections["library-playlists"]
            return [
                {
                    "id": item.library_id,
                    "name": item.attributes["name"],
                    "description": item.attributes.get("description", {}).get("standard"),
                    "visible": item.library_id in playlists,
                    "tracks": self.playlist_tracks(item.library_id)
                    if item.library_id in self._library.tracks
                    else [],
                }
                for item in self._library.created
            ]

    def revoke_developer_tokens(self) -> None:
        """Refuse (401) every developer token presented so far; fresh tokens are accepted."""
        with self._lock:
            self._revoked_tokens |= self._seen_tokens
            self._valid_tokens.clear()

    def revoke_user_token(self, revoked: bool = True) -> None:
        """Refuse the Music User Token from now on, with ``user_token_refusal`` (or accept it again)."""
        with self._lock:
            self._user_token_revoked = revoked

    def inject(self, kind: str, count: int = 1, path_prefix: str = "/", offset: int | None = None) -> None:
        """
        Answer the next ``count`` requests under ``path_prefix`` (and, when given, with query
        ``offset`` equal to ``offset``) with a fault.

        Kinds: ``404`` (code 40400, as a truncated listing page), ``429`` (no Retry-After; to a
        request with a valid developer token, counted in ``throttled_by_team``), ``500`` (code
        50001), ``500_applied`` (the request is carried out as usual, a playlist created or
        tracks appended, then answered 500 with code 50001: a write that failed but was
        applied), ``500_html`` (a 500 whose body is an HTML page, ``text/html``, about 2 KB with
        a correlation key), ``503``, ``504`` (gateway timeout; both HTML pages too with
        ``html_error_bodies``), ``504_html`` (a 504 "Gateway Timeout" HTML page), ``drop``
        (connection closed without an answer), ``slow`` (answer after 60 s), ``truncate`` (200
        with half a body), ``no_data`` (200 whose body lacks ``data``), ``not_json`` (200 with
        HTML).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        with self._lock:
            self._faults.append([kind, count, path_prefix, offset])

    def change_library(
        self, add: int = 1, remove: int = 1, resource: str = "library-albums", parent_id: str | None = None
    ) -> tuple[list[str], list[str]]:
        """
        Add ``add`` new items to a listing's collection and remove ``remove`` visible ones;
        return their library ids. For ``library-playlist-tracks`` (``parent_id``: the playlist),
        library songs are appended to the playlist and tracks taken out of it.
        """
        if resource not in LISTING_RESOURCES:
            raise ValueError(f"resource must be one of {', '.join(LISTING_RESOURCES)}, got {resource!r}")
        with self._lock:
            if self._library.listing(resource, parent_id) is None:
                raise ValueError(f"no library playlist {parent_id!r}")
            return self._library.change(resource, add, remove, parent_id)

    def apply_changes(
        self,
        add: int | Sequence[str] = 0,
        remove: int | Sequence[str] = 0,
        resource: str = "library-albums",
        user: int = 0,
    ) -> tuple[list[str], list[str]]:
        """
        Change ``user``'s library as they would, now: ``add`` fresh items (a count) or the given
        catalog ids, ``remove`` random visible items (a count) or the given library ids. The
        additions lead ``recently-added`` (albums and playlists) and ``meta.total`` of the
        listing follows. Returns ``(added library ids, removed library ids)``.

        A running emulator takes the same change over HTTP, outside the API and without tokens:
        ``POST /emulator/changes`` with the JSON body ``{"add", "remove", "resource", "user"}``
        (the command line's ``apply-changes`` sends it).
        """
        with self._as_user(user):
            self._materialize()
            return self._library.apply_changes(resource, add, remove, dt.datetime.now(dt.timezone.utc))

    def reset_stats(self) -> None:
        """Start counting afresh."""
        with self._lock:
            in_flight = self.stats.in_flight
            self.stats = EmulatorStats(in_flight=in_flight)

    # -- serving -----------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                try:
                    body_read = await self._read_body(reader, headers)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                if isinstance(body_read, _Response):  # framing unknown: answer, then close
                    writer.write(self._head(body_read.status, {}, len(body_read.body)) + body_read.body)
                    await writer.drain()
                    return
                response = await self._respond(method, target, headers, body_read)
                if response.drop:
                    writer.transport.abort()
                    return
                body = response.body
                if response.truncate:
                    head_bytes = self._head(response.status, response.headers, len(body))
                    writer.write(head_bytes + body[: max(1, len(body) // 2)])
                    await writer.drain()
                    writer.transport.abort()
                    return
                writer.write(self._head(response.status, response.headers, len(body)) + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(writer)
            writer.transport.abort()

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | _Response:
        """
        The request body, by ``Content-Length`` or chunked; a 400 (bad framing) or 413 (over
        :data:`MAX_BODY_BYTES`) response instead when it cannot or should not be read.
        """
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = await reader.readuntil(b"\r\n")
                try:
                    length = int(line.split(b";", 1)[0].strip() or b"x", 16)
                except ValueError:
                    return _error(400, "Bad Request", "Malformed chunked body.", "40000")
                size += length
                if length < 0 or size > MAX_BODY_BYTES:
                    return _error(413, "Payload Too Large", "Request body too large.", "41300")
                if length == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(length))
                await reader.readexactly(2)
        raw = headers.get("content-length") or "0"
        if not raw.isdigit():
            return _error(400, "Bad Request", "Invalid Content-Length.", "40000")
        length = int(raw)
        if length > MAX_BODY_BYTES:
            return _error(413, "Payload Too Large", "Request body too large.", "41300")
        return await reader.readexactly(length) if length else b""

    @staticmethod
    def _head(status: int, headers: dict[str, str], length: int) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        merged = {"Content-Type": "application/json;charset=utf-8", **headers}
        merged["Content-Length"] = str(length)
        lines += [f"{name}: {value}" for name, value in merged.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _respond(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> _Response:
        if urlsplit(target).path == CONTROL_CHANGES_PATH:
            return self._control_changes(method, body)
        user = self._user_by_token.get(headers.get("music-user-token", ""), 0)
        with self._lock:
            self.stats.requests += 1
            self.stats.users[user] += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            if self.stats.first_request_at is None:
                self.stats.first_request_at = time.monotonic()
            number = self.stats.requests
        try:
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            with self._as_user(user):
                response, slow = self._handle(number, method, target, headers, body)
            if slow:
                await asyncio.sleep(60)
            with self._lock:
                if response.drop:
                    self.stats.dropped += 1
                else:
                    self.stats.statuses[response.status] += 1
                self.stats.last_response_at = time.monotonic()
            return response
        finally:
            with self._lock:
                self.stats.in_flight -= 1

    def _control_changes(self, method: str, body: bytes) -> _Response:
        """``POST /emulator/changes``: :meth:`apply_changes` for a running emulator (not counted)."""
        if method != "POST":
            return _error(405, "Method Not Allowed", "Use POST.", "40500")
        payload = self._json_body(body or b"{}")
        if isinstance(payload, _Response):
            return payload
        unknown = set(payload) - {"add", "remove", "resource", "user"}
        if unknown:
            return _error(400, "Bad Request", f"Unknown fields: {', '.join(sorted(unknown))}.", "40000")
        try:
            added, removed = self.apply_changes(
                payload.get("add", 0),
                payload.get("remove", 0),
                payload.get("resource", "library-albums"),
                payload.get("user", 0),
            )
        except (ValueError, TypeError) as err:
            return _error(400, "Bad Request", str(err), "40000")
        return _json(200, {"added": added, "removed": removed})

    def _take_fault(self, path: str, query: dict[str, str]) -> str | None:
        for fault in self._faults:
            kind, count, prefix, offset = fault
            if offset is not None and query.get("offset", "0") != str(offset):
                continue
            if count > 0 and path.startswith(prefix):
                fault[1] -= 1
                if fault[1] <= 0:
                    self._faults.remove(fault)
                return str(kind)
        return None

    def _handle(
        self, number: int, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[_Response, bool]:
        parts = urlsplit(target)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.stats.paths[path] += 1
        listing = path.startswith(LIBRARY_PREFIX) or path in HISTORY_PATHS
        if method == "GET" and listing and "ids" not in query:
            raw_offset = query.get("offset") or "0"
            offset = int(raw_offset) if raw_offset.isdigit() else -1
            self.stats.library_pages.append((offset, query.get("extend")))
        fault = self._take_fault(path, query)
        if fault == "drop" or (self.drop_every and number % self.drop_every == 0):
            return _Response(0, drop=True), False
        if fault == "slow":
            return _Response(504, b""), True
        html = self.html_error_bodies
        if fault == "500_html" or ((fault == "500" or self._failing(number)) and html):
            return _html_error(500), False
        if fault == "500" or self._failing(number):
            return _error(500, "Upstream Service Error", "Upstream service error.", "50001"), False
        if fault == "503":
            if html:
                return _html_error(503), False
            return _error(503, "Service Unavailable", "Try again later.", "50301"), False
        if fault == "504_html" or (fault == "504" and html):
            return _html_error(504), False
        if fault == "504":
            return _Response(504, b"<html>Gateway Timeout</html>"), False
        team = self._check_developer_token(headers.get("authorization", ""))
        if isinstance(team, _Response):
            return team, False
        if fault == "429" or self._throttled(team):
            self.stats.throttled_by_team[team] += 1
            extra = {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}
            response = _error(429, "Too Many Requests", "Rate limit exceeded.", "42900")
            response.headers.update(extra)
            return response, False
        self._materialize()
        if fault == "404":
            return _error(404, "Resource Not Found", "Resource Not Found", "40400"), False
        response = self._route(method, path, query, headers, body)
        if fault == "500_applied":  # carried out above; the client is told it failed
            return _error(500, "Upstream Service Error", "Upstream service error.", "50001"), False
        if fault == "truncate" and response.status == 200:
            response.truncate = True
        elif fault == "no_data" and response.status == 200:
            response = _json(200, {"meta": {}})
        elif fault == "not_json" and response.status == 200:
            response = _Response(200, b"<html>Service temporarily unavailable</html>")
        return response, False

    def _failing(self, number: int) -> bool:
        """Request ``number`` is one of the ``fail_every`` 500s."""
        return bool(self.fail_every) and number % self.fail_every == 0

    def _throttled(self, team: str) -> bool:
        """Over ``rate_limit`` requests of ``team`` in the last second (else counted)."""
        if not self.rate_limit:
            return False
        now = time.monotonic()
        window = self._windows.setdefault(team, collections.deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate_limit:
            return True
        window.append(now)
        return False

    def _check_developer_token(self, authorization: str) -> str | _Response:
        """The Team ID of a valid developer token (signed by a registered key), else a 401."""
        import jwt

        refused = _Response(401, b"")
        if not authorization.startswith("Bearer "):
            return refused
        token = authorization[len("Bearer ") :].strip()
        now = time.time()
        if token in self._revoked_tokens:
            return refused
        known = self._valid_tokens.get(token)
        if known is not None and known[0] > now:
            return known[1]
        try:
            header = jwt.get_unverified_header(token)
            key_id = header.get("kid")
            if not isinstance(key_id, str) or key_id not in self._keys:
                return refused
            team, public_key = self._keys[key_id]
            claims = jwt.decode(
                token,
                public_key,
                algorithms=["ES256"],
                issuer=team,
                options={"require": ["iss", "iat", "exp"], "verify_iat": False},
                leeway=0,
            )
        except jwt.PyJWTError:
            return refused
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int) or not isinstance(exp, int):
            return refused
        if iat > now + 60 or exp - iat > MAX_TOKEN_LIFETIME_SECONDS or exp <= iat:
            return refused
        self._seen_tokens.add(token)
        self._valid_tokens[token] = (float(exp), team)
        return team

    def _check_user_token(self, headers: dict[str, str]) -> _Response | None:
        given = headers.get("music-user-token")
        revoked = self._user_token_revoked and given == self.user_token
        if revoked and self.user_token_refusal == 401:
            return _Response(401, b"")
        if not given or given not in self._user_by_token or revoked:
            return _error(403, "Forbidden", "Invalid authentication", "40300")
        return None

    # -- routes --------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes = b""
    ) -> _Response:
        segments = [s for s in path.split("/") if s]
        language = query.get("l")
        if language is not None and not LANGUAGE_TAG.match(language):
            return _error(400, "Invalid Parameter Value", f"Invalid language tag: {language!r}", "40005", "l")
        if segments[:2] == ["v1", "me"]:
            denied = self._check_user_token(headers)
            if denied is not None:
                return denied
            if segments[:3] == ["v1", "me", "ratings"] and len(segments) >= 4:
                if segments[3] in INVALID_RATING_KINDS:
                    return _error(
                        400,
                        "Invalid Path Value",
                        f"{segments[3]} is not a valid ratings type",
                        "40008",
                    )
            if self.no_subscription and (segments[:3] == ["v1", "me", "library"] or path in HISTORY_PATHS):
                return _error(
                    403,
                    "Insufficient Privileges",
                    "The user does not have an active Apple Music subscription with Sync Library on.",
                    "40015",
                )
            if segments == ["v1", "me", "library"]:
                if method != "POST":
                    return _error(405, "Method Not Allowed", "Use POST.", "40500")
                return self._add(query)
            if segments[:4] == ["v1", "me", "library", "playlists"] and method != "GET":
                return self._playlist_write(method, path, segments[4:], body)
            if method != "GET":
                return _error(405, "Method Not Allowed", "Use GET.", "40500")
            if segments == ["v1", "me", "storefront"]:
                return _json(200, {"data": [self._storefront_resource("us")]})
            if segments[:3] == ["v1", "me", "ratings"] and len(segments) == 4 and segments[3] in RATING_KINDS:
                return self._ratings(segments[3], query)
            if path in HISTORY_PATHS:
                return self._listing(HISTORY_PATHS[path], None, path, query)
            if segments[:3] == ["v1", "me", "library"]:
                routed = self._library_route(path, segments[3:], query)
                if routed is not None:
                    return routed
        if segments[:2] == ["v1", "storefronts"] and len(segments) == 3:
            if method != "GET":
                return _error(405, "Method Not Allowed", "Use GET.", "40500")
            if segments[2] != "us":
                return _error(404, "Resource Not Found", f"No storefront {segments[2]}.", "40400")
            return _json(200, {"data": [self._storefront_resource("us")]})
        if segments[:2] == ["v1", "catalog"] and len(segments) in (4, 5) and segments[3] in CATALOG_TYPES:
            if method != "GET":
                return _error(405, "Method Not Allowed", "Use GET.", "40500")
            if query.get("relate") == "library":
                denied = self._check_user_token(headers)
                if denied is not None:
                    return denied
            if len(segments) == 5:
                return self._catalog_item(segments[2], segments[3], segments[4], query)
            return self._catalog(segments[2], segments[3], query)
        return _error(404, "Resource Not Found", f"No resource at {path}.", "40400")

    @staticmethod
    def _storefront_resource(storefront: str) -> dict[str, Any]:
        return {
            "id": storefront,
            "type": "storefronts",
            "href": f"/v1/storefronts/{storefront}",
            "attributes": {
                "name": "United States",
                "defaultLanguageTag": "en-US",
                "supportedLanguageTags": ["en-US", "es-MX"],
                "explicitContentPolicy": "allowed",
            },
        }

    @staticmethod
    def _ids_param(query: dict[str, str], most: int, *, distinct: bool = False) -> list[str] | _Response:
        """Query parameter ``ids`` (required, at most ``most``; ``distinct``: counted once each)."""
        ids = [i for i in query.get("ids", "").split(",") if i]
        if distinct:
            ids = list(dict.fromkeys(ids))
        if not ids:
            return _error(400, "Invalid Parameter Value", "ids is required", "40005", "ids")
        if len(ids) > most:
            return _error(400, "Invalid Parameter Value", f"At most {most} ids are allowed", "40005", "ids")
        return ids

    @staticmethod
    def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int | _Response:
        raw = query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            return _error(
                400,
                "Invalid Parameter Value",
                f"Value must be an integer from {low} to {high}",
                "40005",
                parameter=name,
            )
        return value

    def _library_route(self, path: str, rest: list[str], query: dict[str, str]) -> _Response | None:
        """``/v1/me/library/...`` GETs: listings, a playlist's tracks, single items."""
        if rest == [RECENTLY_ADDED]:
            return self._listing(RECENTLY_ADDED, None, path, query)
        kind = KIND_BY_SEGMENT.get(rest[0]) if rest else None
        if kind is None:
            return None
        if len(rest) == 1:
            return self._listing(kind.resource, None, path, query)
        if len(rest) == 3 and kind.segment == "playlists" and rest[2] == "tracks":
            return self._listing(PLAYLIST_TRACKS, rest[1], path, query)
        if len(rest) == 2 and kind.segment == "albums":
            return self._library_album(rest[1], query)
        if len(rest) == 2:
            return self._library_item(kind.resource, rest[1], query)
        return None

    def _listing(self, resource: str, parent_id: str | None, path: str, query: dict[str, str]) -> _Response:
        """
        One page of any library listing or history, with the service's quirks: ``limit`` 1..100
        (default 25; the histories' smaller maxima and default 10: :data:`PAGE_LIMITS`),
        ``offset``; ``next`` carries only ``offset``; hidden items leave short pages; 404
        (40400) for an empty listing and past the end; ``truncate_every`` 404s past offset 0;
        ``change_every`` changes the listing's collection while it is paged; ``meta.total``
        except on the play histories, which report none.
        """
        self.stats.listing_paths[path] += 1
        if self.song_listings_missing and resource in ("library-songs", PLAYLIST_TRACKS):
            # such accounts answer these listings like an empty collection, whatever they hold
            return _error(404, "Resource Not Found", "Resource Not Found", "40400")
        collection = self._library.listing(resource, parent_id)
        if collection is None:
            return _error(404, "Resource Not Found", f"Resource with id {parent_id} not found", "40400")
        include = query.get("include", "").split(",")
        if resource == "library-playlists" and "tracks" in include:
            return _error(
                400,
                "Invalid Parameter Value",
                "include=tracks is not supported on the playlists listing: fetch a playlist by id",
                "40005",
                "include",
            )
        include_catalog = "catalog" in include
        extend = tuple(v for v in query.get("extend", "").split(",") if v)
        if "ids" in query and resource in KINDS:
            ids = [i for i in query["ids"].split(",") if i]
            found = [collection.items[i] for i in ids if i in collection.items]
            return _json(
                200, {"data": [self._library.item_resource(i, include_catalog, extend) for i in found]}
            )
        page_max, default_limit = PAGE_LIMITS[resource]
        limit = self._int_param(query, "limit", default_limit, 1, page_max)
        if isinstance(limit, _Response):
            return limit
        offset = self._int_param(query, "offset", 0, 0, 10**9)
        if isinstance(offset, _Response):
            return offset
        self.stats.page_sizes[limit] += 1
        total = len(collection)
        if offset >= total:
            # the service answers an empty collection (and a page past the end) with 404
            return _error(404, "Resource Not Found", "Resource Not Found", "40400")
        if offset > 0 and self.truncate_every:
            self._listing_pages_past_zero += 1
            if self._listing_pages_past_zero % self.truncate_every == 0:
                return _error(404, "Resource Not Found", "Resource Not Found", "40400")
        wanted = self._played_types(query.get("types")) if resource == RECENTLY_PLAYED else None
        data = [
            self._library.item_resource(item, include_catalog, extend)
            for item in collection.window(offset, limit)
            if not item.hidden and (wanted is None or item.type in wanted)
        ]
        body: dict[str, Any] = {"data": data}
        if resource not in (RECENTLY_PLAYED, HEAVY_ROTATION, RECENTLY_PLAYED_RESOURCES):
            body["meta"] = {"total": total}
        if offset + limit < total:
            body["next"] = f"{path}?offset={offset + limit}"
        if resource == RECENTLY_PLAYED:
            self._played_pages += 1
            every = self.recently_played_short_every
            if every and self._played_pages % every == 0 and "next" in body:
                del data[-2:]  # as reported: limit=30 answers 28 while more exist
        self._pages_served[path] += 1
        if self.change_every and self._pages_served[path] % self.change_every == 0:
            self._library.change(resource, 1, 1, parent_id)
        return _json(200, body)

    def _library_item(self, resource: str, library_id: str, query: dict[str, str]) -> _Response:
        """One library song, artist, playlist or music video; a playlist with ``include=tracks``."""
        item = self._library.collections[resource].items.get(library_id)
        if item is None or item.hidden:
            return _error(404, "Resource Not Found", f"Resource with id {library_id} not found", "40400")
        include = query.get("include", "").split(",")
        extend = tuple(v for v in query.get("extend", "").split(",") if v)
        body = self._library.item_resource(item, "catalog" in include, extend)
        tracks: Collection | None = self._library.tracks.get(library_id)
        if "tracks" in include and tracks is not None:
            # positional, like the tracks listing: the first ``limit`` positions, hidden ones left out
            limit = self.relationship_limit or len(tracks)
            relationship: dict[str, Any] = {
                "href": f"{item.href}/tracks",
                "data": [
                    self._library.item_resource(t, False, extend)
                    for t in tracks.window(0, limit)
                    if not t.hidden
                ],
                "meta": {"total": len(tracks)},
            }
            if len(tracks) > limit:
                relationship["next"] = f"{item.href}/tracks?offset={limit}"
            body.setdefault("relationships", {})["tracks"] = relationship
        return _json(200, {"data": [body]})

    def _ratings(self, kind: str, query: dict[str, str]) -> _Response:
        """``GET /v1/me/ratings/{kind}?ids=...``: the rated ids' ratings; unrated ids absent."""
        ids = self._ids_param(query, RATINGS_BATCH_LIMIT, distinct=True)
        if isinstance(ids, _Response):
            return ids
        data = []
        for item_id in ids:
            value = self._library.rating(kind, item_id)
            if value is not None:
                data.append(
                    {
                        "id": item_id,
                        "type": "ratings",
                        "href": f"/v1/me/ratings/{kind}/{item_id}",
                        "attributes": {"value": value},
                    }
                )
        return _json(200, {"data": data})

    def _library_album(self, library_id: str, query: dict[str, str]) -> _Response:
        album = self._library.albums.get(library_id)
        if album is None or album.hidden:
            return _error(404, "Resource Not Found", f"Resource with id {library_id} not found", "40400")
        extend = tuple(v for v in query.get("extend", "").split(",") if v)
        resource = self._library.album_resource(album, "catalog" in query.get("include", ""), extend)
        tracks = [
            {"id": f"i.{album.library_id[2:]}{n:02d}", "type": "library-songs"}
            for n in range(1, int(album.attributes["trackCount"]) + 1)
        ]
        resource.setdefault("relationships", {})["tracks"] = {
            "href": f"/v1/me/library/albums/{library_id}/tracks",
            "data": tracks,
        }
        return _json(200, {"data": [resource]})

    def _add(self, query: dict[str, str]) -> _Response:
        requested = {
            key[len("ids[") : -1]: value
            for key, value in query.items()
            if key.startswith("ids[") and key.endswith("]")
        }
        if not requested:
            return _error(400, "Invalid Parameter Value", "ids is required", "40005", "ids")
        self.stats.posts += 1
        due = time.monotonic() + self.add_delay
        for kind, value in requested.items():
            if kind not in CATALOG_TYPES:
                return _error(400, "Invalid Parameter Value", f"Unknown type {kind}", "40005", f"ids[{kind}]")
            for catalog_id in value.split(","):
                if self._library.resolves(kind, catalog_id):
                    self._pending.append((due, kind, catalog_id))
        return _Response(202, b"")

    # -- playlist writes ---------------------------------------------------------------

    def _playlist_write(self, method: str, path: str, rest: list[str], body: bytes) -> _Response:
        """
        Writes under ``/v1/me/library/playlists``: POST creates (no more segments) or appends
        (``{id}/tracks``); anything else 405; a trailing slash 400, like ``/v1/me/library``.
        """
        writable = not rest or (len(rest) == 2 and rest[1] == "tracks")
        if method != "POST" or not writable:
            allowed = "GET or POST" if writable else "GET"
            return _error(405, "Method Not Allowed", f"Use {allowed}.", "40500")
        if path.endswith("/"):
            return _error(400, "Invalid Request", f"No resource at {path}.", "40000")
        payload = self._json_body(body)
        if isinstance(payload, _Response):
            return payload
        if not rest:
            return self._create_playlist(payload)
        return self._append_tracks(rest[0], payload)

    @staticmethod
    def _json_body(body: bytes) -> dict[str, Any] | _Response:
        """The request body as a JSON object, or a 400."""
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(400, "Invalid Request Body", "The request body is not valid JSON.", "40007")
        if not isinstance(payload, dict):
            return _error(400, "Invalid Request Body", "The request body must be a JSON object.", "40007")
        return payload

    @staticmethod
    def _track_entries(data: Any, pointer: str) -> list[tuple[str, str]] | _Response:
        """
        ``[{"id", "type"}]`` as ``(type, id)`` pairs; a 400 naming ``pointer`` (40007) when it
        is not such a list, or naming the first item typed wrongly for its id (40005,
        ``pointer[n].type``, or ``pointer[n].id`` for an id of neither shape): ``library-songs``
        takes an ``i.`` id, ``songs`` a numeric one.
        """
        if not isinstance(data, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"] for entry in data
        ):
            return _error(
                400,
                "Invalid Request Body",
                f"{pointer} must be a list of {{id, type}} with type one of {', '.join(TRACK_TYPES)}.",
                "40007",
                pointer,
            )
        for index, entry in enumerate(data):
            track_id, kind = entry["id"], entry.get("type")
            library, catalog = track_id.startswith("i."), track_id.isdigit()
            if (kind == "library-songs" and library) or (kind == "songs" and catalog):
                continue
            if kind in TRACK_TYPES and not (library or catalog):
                field_name, detail = "id", f"{track_id!r} is neither a library song id (i.) nor a catalog id"
            else:
                expected = "library-songs" if library else "songs" if catalog else "library-songs or songs"
                field_name, detail = "type", f"{track_id!r} must be typed {expected}, got {kind!r}"
            return _error(400, "Invalid Parameter Value", detail, "40005", f"{pointer}[{index}].{field_name}")
        return [(entry["type"], entry["id"]) for entry in data]

    def _create_playlist(self, payload: dict[str, Any]) -> _Response:
        attributes = payload.get("attributes")
        if not isinstance(attributes, dict):
            attributes = {}
        name, description = attributes.get("name"), attributes.get("description")
        if not isinstance(name, str) or not name.strip():
            return _error(
                400, "Invalid Request Body", "attributes.name is required.", "40007", "attributes.name"
            )
        if description is not None and not isinstance(description, str):
            return _error(
                400,
                "Invalid Request Body",
                "attributes.description must be a string.",
                "40007",
                "attributes.description",
            )
        relationships = payload.get("relationships") or {}
        tracks = relationships.get("tracks", {}) if isinstance(relationships, dict) else None
        data = tracks.get("data", []) if isinstance(tracks, dict) else None
        entries = self._track_entries(data, "relationships.tracks.data")
        if isinstance(entries, _Response):
            return entries
        public = attributes.get("isPublic")
        if public is not None and not isinstance(public, bool):
            return _error(
                400,
                "Invalid Request Body",
                "attributes.isPublic must be a boolean.",
                "40007",
                "attributes.isPublic",
            )
        now = dt.datetime.now(dt.timezone.utc)
        playlist = self._library.create_playlist(name, description, now, public=bool(public))
        self._library.append_tracks(playlist.library_id, entries, now)
        self._pending_playlists.append((time.monotonic() + self.playlist_delay, playlist.library_id))
        self.stats.playlist_writes["create"] += 1
        if self.playlist_delay <= 0:
            self._materialize()
        return _json(201, {"data": [self._library.item_resource(playlist, False)]})

    def _append_tracks(self, playlist_id: str, payload: dict[str, Any]) -> _Response:
        playlist = self._library.collections["library-playlists"].items.get(playlist_id)
        if playlist is None or playlist.hidden:
            return _error(404, "Resource Not Found", f"Resource with id {playlist_id} not found", "40400")
        if not playlist.attributes.get("canEdit"):
            return _error(
                403,
                "Forbidden",
                "Only playlists created by this app can be changed (canEdit is false).",
                "40300",
            )
        entries = self._track_entries(payload.get("data"), "data")
        if isinstance(entries, _Response):
            return entries
        if not entries:
            return _error(400, "Invalid Request Body", "data must name at least one track.", "40007", "data")
        self._library.append_tracks(playlist_id, entries, dt.datetime.now(dt.timezone.utc))
        self.stats.playlist_writes["append"] += 1
        return _Response(204, b"")

    def _materialize(self) -> None:
        if self._pending_playlists:
            now = time.monotonic()
            for _due, library_id in [p for p in self._pending_playlists if p[0] <= now]:
                self._library.publish_playlist(library_id)
            self._pending_playlists = [p for p in self._pending_playlists if p[0] > now]
        if not self._pending:
            return
        now = time.monotonic()
        ready = [item for item in self._pending if item[0] <= now]
        if not ready:
            return
        self._pending = [item for item in self._pending if item[0] > now]
        moment = dt.datetime.now(dt.timezone.utc)
        for _, kind, catalog_id in ready:
            self._library.add_item(kind, catalog_id, moment)

    def _catalog(self, storefront: str, kind: str, query: dict[str, str]) -> _Response:
        filters = sorted(key for key in query if key.startswith("filter["))
        if filters:
            ids_or_error = self._filtered_ids(kind, filters, query)
            if isinstance(ids_or_error, _Response):
                return ids_or_error
            ids = ids_or_error
        else:
            ids_or_error = self._ids_param(query, 100)
            if isinstance(ids_or_error, _Response):
                return ids_or_error
            ids = ids_or_error
        relate = query.get("relate") == "library"
        data = []
        for catalog_id in ids:
            if not self._library.resolves(kind, catalog_id):  # unknown or withdrawn: left out
                continue
            resource = self._library.catalog_resource(kind, catalog_id, storefront)
            if relate:
                library_id = self._library.in_library[kind].get(catalog_id)
                resource["relationships"] = {
                    "library": {
                        "href": f"/v1/catalog/{storefront}/{kind}/{catalog_id}/library",
                        "data": [{"id": library_id, "type": LIBRARY_TYPE[kind]}] if library_id else [],
                    }
                }
            data.append(resource)
        return _json(200, {"data": data})

    def _catalog_item(self, storefront: str, kind: str, catalog_id: str, query: dict[str, str]) -> _Response:
        """``GET /v1/catalog/{sf}/{type}/{id}``: the one resource, or 404 (unknown or withdrawn)."""
        if any(key.startswith("filter[") for key in query) or "ids" in query:
            return _error(400, "Invalid Parameter Value", "ids and filters need no id in the path", "40005")
        if not self._library.resolves(kind, catalog_id):
            return _error(404, "Resource Not Found", f"Resource with id {catalog_id} not found", "40400")
        return self._catalog(storefront, kind, {**query, "ids": catalog_id})

    def _filtered_ids(self, kind: str, filters: list[str], query: dict[str, str]) -> list[str] | _Response:
        """
        The catalog ids a ``filter[isrc]`` (songs) or ``filter[upc]`` (albums) look-up names,
        codes matched exactly; a 400 when combined with ``ids``, for another filter, with no
        code or with more than :data:`CODE_BATCH_LIMIT`.
        """
        if "ids" in query:
            return _error(
                400, "Invalid Parameter Value", "ids cannot be combined with a filter", "40005", "ids"
            )
        expected = CODE_FILTERS.get(kind)
        for name in filters:
            if name != expected:
                return _error(
                    400, "Invalid Parameter Value", f"{name} is not supported for {kind}", "40005", name
                )
        assert expected is not None
        codes = [c for c in query[expected].split(",") if c]
        if not codes:
            return _error(400, "Invalid Parameter Value", f"{expected} needs a value", "40005", expected)
        if len(codes) > CODE_BATCH_LIMIT:
            return _error(
                400,
                "Invalid Parameter Value",
                f"At most {CODE_BATCH_LIMIT} values are allowed",
                "40005",
                expected,
            )
        return self._library.codes[kind].lookup(codes)
