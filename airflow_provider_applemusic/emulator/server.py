"""
AppleMusicEmulator: the Apple Music API on a loopback socket, quirks and faults included.

The facade over the emulator's layers: :mod:`~airflow_provider_applemusic.emulator.wire` (HTTP
framing), :mod:`~airflow_provider_applemusic.emulator.gate` (faults, tokens, the rate limit),
:mod:`~airflow_provider_applemusic.emulator.routes` and
:mod:`~airflow_provider_applemusic.emulator.writes` (the API's paths), over each user's
:mod:`~airflow_provider_applemusic.emulator.accounts` (a library and its pending changes). Its
options are :class:`~airflow_provider_applemusic.emulator.options.EmulatorOptions`: the
constructor's parameters, the ``:param:`` list below and the read-write attributes of the same
names are generated from them.

Over 600 lines: it is the emulator's whole public face (what tests and users call: the library,
plays, faults, ratings, changes), each method a few lines under its reference docstring; the
work is in the layers above.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import json
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator import changes
from airflow_provider_applemusic.emulator.accounts import Account, open_accounts
from airflow_provider_applemusic.emulator.control import CONTROL_PATHS
from airflow_provider_applemusic.emulator.gate import Gate, private_pem
from airflow_provider_applemusic.emulator.kinds import (
    CATALOG_TYPES,
    LISTING_RESOURCES,
    PLAYED_TYPES,
    RECENTLY_PLAYED,
)
from airflow_provider_applemusic.emulator.kinds import played_types as _played_types
from airflow_provider_applemusic.emulator.options import SIGNATURE, EmulatorOptions, param_docs
from airflow_provider_applemusic.emulator.replay import replay_year, summary
from airflow_provider_applemusic.emulator.routes import PageCounters, Router, is_listing_page
from airflow_provider_applemusic.emulator.sessions import SessionMix, listening_session
from airflow_provider_applemusic.emulator.stats import EmulatorStats
from airflow_provider_applemusic.emulator.wire import LoopServer, Request

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_applemusic.emulator.responses import Response


class AppleMusicEmulator:
    """
    An Apple Music API emulator serving real HTTP on a loopback port, for tests and demos.

    Use it as a context manager; it serves from a background thread::

        with AppleMusicEmulator(albums=500) as emu:
            os.environ["AIRFLOW_CONN_APPLE_MUSIC_DEFAULT"] = emu.connection_json()

    Give options as keyword arguments (below), or as ``options=EmulatorOptions(...)``; each is
    also an attribute that a running emulator reads afresh (``emu.rate_limit = 5``). It checks
    developer tokens (ES256 signature, ``kid``, ``iss``, ``iat``, ``exp``, lifetime) and the Music
    User Token like the service and reproduces its quirks: every path it serves and how is
    described in :mod:`airflow_provider_applemusic.emulator.routes` (reads) and
    :mod:`airflow_provider_applemusic.emulator.writes` (adding to the library, playlist writes).

    Developer keys: the emulator's own key (:attr:`key_id`, :attr:`team_id`) and any added with
    :meth:`add_developer_key`; a token must be signed by a registered key and carry that key's
    team as ``iss``. The rate limit is one per team. Real libraries: some library songs have no
    ``playParams`` and some items point at catalog ids the catalog no longer resolves:
    :meth:`songs_without_play_params`, :meth:`withdrawn_ids`. Ratings: :meth:`ratings`,
    :meth:`rate`; a library item shares its catalog item's rating.

    """

    def __init__(self, *args: Any, options: EmulatorOptions | None = None, **kwargs: Any) -> None:
        self.options = EmulatorOptions.from_arguments(options, *args, **kwargs)
        self._lock = threading.RLock()
        self._accounts: list[Account] = open_accounts(self.options)
        self._user_by_token = {account.token: index for index, account in enumerate(self._accounts)}
        self._gate = Gate(self.options, self._user_by_token, self._accounts[0].token)
        self.team_id, self.key_id = self._gate.team_id, self._gate.key_id
        self._private_key = self._gate.private_key
        self.public_key = self._gate.public_key
        self.private_key_pem = private_pem(self._private_key)
        self._counters = PageCounters()
        self.stats = EmulatorStats()
        #: monotonic times at which :meth:`restart` brought the emulator back
        self.restarts: list[float] = []
        self._wire = LoopServer(self._respond)

    # -- users ---------------------------------------------------------------------------------

    @property
    def users(self) -> int:
        """How many users share the developer key."""
        return len(self._accounts)

    @property
    def user_token(self) -> str:
        """User 0's Music User Token."""
        return self._accounts[0].token

    def user_token_of(self, user: int) -> str:
        """
        The Music User Token of user ``user`` (0 to ``users - 1``).

        :param user: the user's number.
        """
        return self._account(user).token

    def _account(self, user: int) -> Account:
        """User ``user``'s account (a ValueError names the range)."""
        if isinstance(user, bool) or not isinstance(user, int) or not 0 <= user < len(self._accounts):
            raise ValueError(f"user must be an integer from 0 to {len(self._accounts) - 1}, got {user!r}")
        return self._accounts[user]

    def _current(self, user: int = 0) -> Account:
        """User ``user``'s account with its due changes made visible (call under the lock)."""
        account = self._account(user)
        account.materialize()
        return account

    @property
    def _seen_tokens(self) -> set[str]:
        """Every developer token accepted so far (tests check no secret leaks)."""
        return self._gate.seen_tokens

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> AppleMusicEmulator:
        """Start serving in a background thread; returns once the port is bound."""
        self.options.port = self._wire.start(self.options.host, self.options.port)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        self._wire.stop()

    def restart(self, *, lose_pending: bool = True) -> None:
        """
        Stop and start again on the same port; pending adds are lost, like a real restart.

        :param lose_pending: forget adds not yet visible (as a restarted service may).
        """
        self.stop()
        if lose_pending:
            with self._lock:
                for account in self._accounts:
                    account.pending.clear()
        self.start()
        self.restarts.append(time.monotonic())

    def __enter__(self) -> AppleMusicEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- connections and keys ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43210``."""
        return f"http://{self.options.host}:{self.options.port}"

    def connection_dict(self, user: int = 0) -> dict[str, Any]:
        """
        The ``apple_music`` connection of one user (default user 0) as Airflow's JSON form:
        every user's has the same developer key, and the user's own Music User Token.

        :param user: the user's number (0: the emulator's own).
        """
        return {
            "conn_type": "apple_music",
            "host": self.url,
            "login": self.team_id,
            "password": self.private_key_pem,
            "extra": {"key_id": self.key_id, "music_user_token": self.user_token_of(user)},
        }

    def connection_json(self, user: int = 0) -> str:
        """
        JSON for ``AIRFLOW_CONN_APPLE_MUSIC_DEFAULT`` (or a user's ``AIRFLOW_CONN_...``).

        :param user: the user's number (0: the emulator's own).
        """
        return json.dumps(self.connection_dict(user))

    def add_developer_key(self, team_id: str | None = None) -> dict[str, Any]:
        """
        Register a further ES256 developer key (a new 10-character Key ID) the emulator accepts,
        as a team does when it rotates keys or has several; returns user 0's ``apple_music``
        connection like :meth:`connection_dict` but with this key's ``key_id``, ``team_id``
        (``login``) and private key (``password``): same users, same Music User Tokens.

        :param team_id: the key's Team ID, 10 letters and digits (None: the emulator's own
            :attr:`team_id`). Keys of one team share its rate limit; another team has its own.
        """
        with self._lock:
            team, key_id, pem = self._gate.add_key(team_id)
        connection = self.connection_dict()
        connection["login"] = team
        connection["password"] = pem
        connection["extra"]["key_id"] = key_id
        return connection

    def revoke_developer_tokens(self) -> None:
        """Refuse (401) every developer token presented so far; fresh tokens are accepted."""
        with self._lock:
            self._gate.revoke_developer_tokens()

    def revoke_user_token(self, revoked: bool = True) -> None:
        """
        Refuse the Music User Token from now on, with ``user_token_refusal`` (or accept it again).

        :param revoked: True: refuse it; False: accept it again.
        """
        with self._lock:
            self._gate.user_token_revoked = revoked

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

        :param kind: the fault (see above).
        :param count: how many requests get it.
        :param path_prefix: only requests whose path starts with this.
        :param offset: only requests with this query ``offset``; None: any.
        """
        with self._lock:
            self._gate.inject(kind, count, path_prefix, offset)

    def reset_stats(self) -> None:
        """Start counting afresh."""
        with self._lock:
            self.stats = EmulatorStats(in_flight=self.stats.in_flight)

    # -- the library, as tests read and change it ----------------------------------------------

    def library(self, extend: tuple[str, ...] = ("dateAdded",), user: int = 0) -> list[dict[str, Any]]:
        """
        A user's visible library albums, in the API's order, as the API returns them to a
        request with ``extend`` (by default ``dateAdded``, which the hook always asks for).

        :param extend: the extended attributes asked for.
        :param user: the user's number.
        """
        return self.library_items("library-albums", extend, user=user)

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
        :param extend: the extended attributes asked for.
        :param include_catalog: as with ``include=catalog``.
        """
        if resource not in LISTING_RESOURCES:
            raise ValueError(f"resource must be one of {', '.join(LISTING_RESOURCES)}, got {resource!r}")
        wanted = _played_types(",".join(types) if types is not None else ",".join(PLAYED_TYPES))
        with self._lock:
            library = self._current(user).library
            collection = library.listing(resource, parent_id)
            if collection is None:
                raise ValueError(f"no library playlist {parent_id!r}")
            return [
                library.item_resource(i, include_catalog, extend)
                for i in collection.visible()
                if resource != RECENTLY_PLAYED or i.type in wanted
            ]

    def play(
        self, song_id: str, item_id: str | None = None, *, at: dt.datetime | None = None, user: int = 0
    ) -> dict[str, Any]:
        """
        Play a song as the user would: it goes to the front of ``recent/played/tracks`` (moved
        there when already in it; the history keeps its newest 50) and into the ground truth
        (:meth:`plays`). Returns ``{"at", "type", "id"}``.

        :param song_id: the id played: a catalog song or music video id, or a library song id
            (``i.…``); its kind is found from it. Or, with ``item_id``, the kind (``songs``,
            ``library-songs``, ``music-videos``).
        :param item_id: the id, when ``song_id`` gives the kind.
        :param at: when it was played (aware; default now): not before the user's last play,
            so a test can play a week in a second.
        :param user: whose history.
        """
        moment = at if at is not None else dt.datetime.now(dt.timezone.utc)
        with self._lock:
            history = self._current(user).library.history
            kind = song_id if item_id is not None else history.kind_of(song_id)
            history.play(kind, item_id if item_id is not None else song_id, moment)
        return {"at": moment, "type": kind, "id": item_id if item_id is not None else song_id}

    def listening_session(
        self,
        plays: int = 20,
        *,
        start: dt.datetime | None = None,
        seed: int | None = None,
        mix: SessionMix | None = None,
        user: int = 0,
    ) -> list[dict[str, Any]]:
        """
        A burst of ``plays`` plays, one after the other from ``start``, each when the one before
        it ended (no ``start``: now, a microsecond apart): replays of songs in the history,
        library and catalog songs, music videos and now and then the same song twice in a row
        (:class:`~airflow_provider_applemusic.emulator.sessions.SessionMix`). Returns the plays,
        oldest first, as :meth:`play` does.

        :param plays: how many plays.
        :param start: when the first begins (aware).
        :param seed: draws the plays (default: the user's session count, from the emulator's seed).
        :param mix: the shares of each kind of play.
        :param user: whose history.
        """
        with self._lock:
            history = self._current(user).library.history
            draw = random.Random(f"session:{history.seed}:{seed if seed is not None else len(history.log)}")
            made = listening_session(history, draw, start, plays, mix or SessionMix())
        return [{"at": at, "type": kind, "id": item_id} for at, kind, item_id in made]

    def plays(self, user: int = 0) -> list[dict[str, Any]]:
        """
        The ground truth the API never gives: every play made so far, oldest first (as :meth:`play`).

        :param user: whose plays.
        """
        with self._lock:
            log = self._current(user).library.history.log
            return [{"at": at, "type": kind, "id": item_id} for at, kind, item_id in log]

    def replay(self, user: int = 0) -> dict[str, Any]:
        """
        The user's latest Replay summary, every view with every item (what ``music-summaries`` serves).

        :param user: whose summary.
        """
        with self._lock:
            return summary(self._current(user).library, replay_year())

    def ratings(self, kind: str, user: int = 0) -> dict[str, int]:
        """
        A user's rated items of ``kind`` (``albums``, ``songs``, ``playlists``, ``music-videos``
        or ``library-albums``, ``library-songs``, ...): ``{id: 1 (love) or -1 (dislike)}``.

        :param kind: the rated kind.
        :param user: the user's number.
        """
        with self._lock:
            return self._current(user).library.ratings.rated(kind)

    def rate(self, kind: str, item_id: str, value: int | None, user: int = 0) -> None:
        """
        Rate an item as the user would: ``value`` 1 (love), -1 (dislike) or None (no rating).
        A library item and its catalog item share one rating.

        :param kind: a catalog type (``item_id`` a catalog id) or a library type (a library id).
        :param item_id: the rated item's id.
        :param value: 1, -1 or None.
        :param user: the user's number.
        """
        with self._lock:
            self._current(user).library.ratings.rate(kind, item_id, value)

    def playlist_ids(self, with_tracks: bool | None = None) -> list[str]:
        """
        The visible library playlists' ids in listing order: all of them, or only those with
        (``with_tracks=True``) or without (``False``) tracks.

        :param with_tracks: None: all; True: with tracks; False: without.
        """
        with self._lock:
            library = self._current().library
            return [
                playlist.library_id
                for playlist in library.collections["library-playlists"].visible()
                if with_tracks is None
                or (len(library.tracks.get(playlist.library_id, ())) > 0) == with_tracks
            ]

    def catalog_ids(self, kind: str = "albums", in_library: bool = False, user: int = 0) -> list[str]:
        """
        Catalog ids of ``kind`` the catalog resolves: those not in a user's library, or
        (``in_library``) those in it (each user's library comes with a catalog of its own).
        Withdrawn ids (:meth:`withdrawn_ids`) are left out.

        :param kind: ``albums``, ``songs``, ``playlists`` or ``music-videos``.
        :param in_library: those in the library instead of those not in it.
        :param user: the user's number.
        """
        with self._lock:
            library = self._current(user).library
            return library.catalog.ids(kind, library.in_library[kind], in_library)

    def withdrawn_ids(self, kind: str = "songs", user: int = 0) -> list[str]:
        """
        The catalog ids of ``kind`` (``albums``, ``songs``, ``music-videos``) that visible items
        of a user's library point at but the catalog no longer resolves (``withdrawn_every``),
        in listing order.

        :param kind: ``albums``, ``songs`` or ``music-videos``.
        :param user: the user's number.
        """
        if kind not in CATALOG_TYPES:
            raise ValueError(f"kind must be one of {', '.join(CATALOG_TYPES)}, got {kind!r}")
        with self._lock:
            return self._current(user).library.withdrawn_ids(kind)

    def catalog_attributes(self, kind: str, catalog_id: str, user: int = 0) -> dict[str, Any] | None:
        """
        The ``attributes`` a catalog fetch of ``catalog_id`` answers (None: unknown or withdrawn).

        :param kind: the catalog type (``songs``, ``albums``, ...).
        :param catalog_id: the catalog id.
        :param user: whose catalog view.
        """
        with self._lock:
            catalog = self._current(user).library.catalog
            return dict(catalog.items[kind][catalog_id]) if catalog.resolves(kind, catalog_id) else None

    def songs_without_play_params(self, user: int = 0) -> list[str]:
        """
        The library ids of a user's visible library songs without ``playParams``
        (``songs_without_play_params_every``; uploads have theirs), in listing order.

        :param user: the user's number (0: the emulator's own).
        """
        with self._lock:
            songs = self._current(user).library.collections["library-songs"]
            return [item.library_id for item in songs.visible() if "playParams" not in item.attributes]

    def make_playlist(
        self, tracks: Sequence[str], *, name: str = "Emulated playlist", can_edit: bool = True, user: int = 0
    ) -> str:
        """
        Create a visible library playlist of a user holding exactly these library song ids
        (``i.`` ids in that user's library), in this order, repeats kept; returns its ``p.`` id.
        It is listed at once, never hidden, and pages like any playlist's tracks.

        :param can_edit: made by this app (``canEdit``), else by the user in the Music app.
        :param tracks: library song ids, in order, repeats allowed.
        :param name: the playlist's name.
        :param user: the user's number.
        """
        if isinstance(tracks, str):
            raise ValueError("tracks must be a sequence of library song ids, not one string")
        with self._lock:
            return self._current(user).library.make_playlist(list(tracks), name, can_edit=can_edit).library_id

    def library_ids(self, kind: str = "albums") -> dict[str, str]:
        """
        ``{catalog_id: library_id}`` of everything of ``kind`` in the library now.

        :param kind: ``albums``, ``songs``, ``playlists`` or ``music-videos``.
        """
        with self._lock:
            return dict(self._current().library.in_library[kind])

    def isrcs(self, ambiguous: bool | None = None, in_library: bool | None = None) -> list[str]:
        """
        The catalog's ISRCs, in the order the catalog made them: all, or only those shared by
        several songs (``ambiguous=True``) or by one (``False``); only those with at least one
        of their songs in the library (``in_library=True``) or none (``False``).

        :param ambiguous: None: all; True: codes shared by several items; False: by one.
        :param in_library: None: all; True: of items in the library; False: of items not in it.
        """
        with self._lock:
            library = self._current().library
            return library.catalog.find_codes("songs", library.in_library["songs"], ambiguous, in_library)

    def upcs(self, ambiguous: bool | None = None, in_library: bool | None = None) -> list[str]:
        """
        The catalog's UPCs and EANs, filtered like :meth:`isrcs` (albums instead of songs).

        :param ambiguous: None: all; True: codes shared by several items; False: by one.
        :param in_library: None: all; True: of items in the library; False: of items not in it.
        """
        with self._lock:
            library = self._current().library
            return library.catalog.find_codes("albums", library.in_library["albums"], ambiguous, in_library)

    def songs_for_isrc(self, isrc: str) -> list[str]:
        """
        The catalog song ids with this ISRC (exactly as given), in catalog order, withdrawn ids
        left out; [] if none.

        :param isrc: an ISRC.
        """
        with self._lock:
            return self._accounts[0].library.catalog.with_code("songs", isrc)

    def albums_for_upc(self, upc: str) -> list[str]:
        """
        The catalog album ids with this UPC or EAN (exactly as given), withdrawn ids left out.

        :param upc: a UPC or EAN.
        """
        with self._lock:
            return self._accounts[0].library.catalog.with_code("albums", upc)

    def playlist_tracks(self, playlist_id: str) -> list[str]:
        """
        What a library playlist holds, in order, every position (a song the playlist repeats
        comes at each of its positions), each entry by the id it was added with: the catalog
        song id for a song appended by catalog id (``{"type": "songs"}``), else the library song
        id (generated playlists, :meth:`make_playlist`, ``{"type": "library-songs"}``). Also for
        a created playlist not visible yet.

        :param playlist_id: a library playlist id (``p.``).
        """
        with self._lock:
            tracks = self._accounts[0].library.tracks.get(playlist_id)
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
            library = self._current().library
            return [
                {
                    "id": item.library_id,
                    "name": item.attributes["name"],
                    "description": item.attributes.get("description", {}).get("standard"),
                    "visible": item.library_id in library.collections["library-playlists"],
                    "tracks": library.tracks[item.library_id].added_ids()
                    if item.library_id in library.tracks
                    else [],
                }
                for item in library.created
            ]

    def change_library(
        self, add: int = 1, remove: int = 1, resource: str = "library-albums", parent_id: str | None = None
    ) -> tuple[list[str], list[str]]:
        """
        Add ``add`` new items to a listing's collection and remove ``remove`` visible ones;
        return their library ids. For ``library-playlist-tracks`` (``parent_id``: the playlist),
        library songs are appended to the playlist and tracks taken out of it.

        :param add: items to add.
        :param remove: visible items to remove.
        :param resource: the listing whose collection changes.
        :param parent_id: the playlist, for ``library-playlist-tracks``.
        """
        if resource not in LISTING_RESOURCES:
            raise ValueError(f"resource must be one of {', '.join(LISTING_RESOURCES)}, got {resource!r}")
        with self._lock:
            library = self._accounts[0].library
            if library.listing(resource, parent_id) is None:
                raise ValueError(f"no library playlist {parent_id!r}")
            return changes.change(library, resource, add, remove, parent_id)

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

        :param add: a count of fresh items, or catalog ids to add.
        :param remove: a count of random visible items, or library ids to remove.
        :param resource: the listing whose collection changes.
        :param user: the user's number.
        """
        with self._lock:
            library = self._current(user).library
            return changes.apply_changes(library, resource, add, remove, dt.datetime.now(dt.timezone.utc))

    # -- serving -------------------------------------------------------------------------------

    async def _respond(self, request: Request) -> Response:
        """Count a request, wait out the latency, answer it (under the lock), count the answer."""
        control = CONTROL_PATHS.get(request.path)
        if control is not None:
            with self._lock:
                return control(self, request)
        user = self._user_by_token.get(request.headers.get("music-user-token", ""), 0)
        with self._lock:
            stats = self.stats
            stats.requests += 1
            stats.users[user] += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            if stats.first_request_at is None:
                stats.first_request_at = time.monotonic()
            number = stats.requests
        try:
            if self.options.latency_ms:
                await asyncio.sleep(self.options.latency_ms / 1000)
            with self._lock:
                response = self._handle(number, request, self._accounts[user])
            if response.delay:
                await asyncio.sleep(response.delay)
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

    def _handle(self, number: int, request: Request, account: Account) -> Response:
        """Request ``number`` through the gate, then to its route, for the user's ``account``."""
        self.stats.paths[request.path] += 1
        self.stats.arrivals.append(request.path)
        if is_listing_page(request):
            raw_offset = request.query.get("offset") or "0"
            offset = int(raw_offset) if raw_offset.isdigit() else -1
            self.stats.library_pages.append((offset, request.query.get("extend")))
        fault = self._gate.take_fault(request.path, request.query)
        refused = self._gate.screen(number, fault, request.headers.get("authorization", ""), self.stats)
        if refused is not None:
            return refused
        account.materialize()
        router = Router(self.options, self.stats, account, self._gate, self._counters)
        return self._gate.spoil(fault, lambda: router.route(request))


def _option_property(name: str) -> property:
    """A read-write attribute of the emulator for option ``name``: its ``options``' field."""

    def get(self: AppleMusicEmulator) -> Any:
        return getattr(self.options, name)

    def set_(self: AppleMusicEmulator, value: Any) -> None:
        setattr(self.options, name, value)

    return property(get, set_, doc=f"Option ``{name}`` (see :class:`EmulatorOptions`), read afresh.")


# generated from EmulatorOptions: the parameters' docs, the signature help() shows, and an
# attribute per option, except where a member of that name exists (``users``, ``playlist_tracks``)
AppleMusicEmulator.__doc__ = (
    f"{(AppleMusicEmulator.__doc__ or '').rstrip()}\n\n"
    "    :param options: options to start from (an :class:`EmulatorOptions`); the arguments below\n"
    f"        override them.\n{param_docs()}\n    "
)
_OPTIONS = inspect.Parameter(
    "options", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="EmulatorOptions | None"
)
AppleMusicEmulator.__signature__ = SIGNATURE.replace(  # type: ignore[attr-defined]
    parameters=[*SIGNATURE.parameters.values(), _OPTIONS]
)
for _field in dataclasses.fields(EmulatorOptions):
    if not hasattr(AppleMusicEmulator, _field.name):
        setattr(AppleMusicEmulator, _field.name, _option_property(_field.name))
