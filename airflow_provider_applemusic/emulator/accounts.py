"""The users of the emulator's developer key: each a Music User Token, a library and its pending changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_applemusic.emulator.library import Library

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator.options import EmulatorOptions

#: users' seeds are this far apart, so every user's library differs from every other's
USER_SEED_STRIDE = 1_000_003


def user_seed(seed: int, user: int) -> int:
    """The seed of user ``user``'s library: user 0 has the emulator's own seed."""
    return seed + USER_SEED_STRIDE * user


def user_token(seed: int, user: int) -> str:
    """User ``user``'s Music User Token, from the emulator's seed."""
    suffix = "" if user == 0 else f":{user}"
    return "emu." + hashlib.sha256(f"user:{seed}{suffix}".encode()).hexdigest() * 2


@dataclass
class Account:
    """One user of the developer key: a Music User Token, a library, the library's pending changes."""

    token: str
    library: Library
    #: adds not visible yet: ``(monotonic time due, kind, catalog id)``
    pending: list[tuple[float, str, str]] = field(default_factory=list)
    #: created playlists not visible yet: ``(monotonic time due, library id)``
    pending_playlists: list[tuple[float, str]] = field(default_factory=list)

    def materialize(self) -> None:
        """Make the adds and created playlists that are due visible."""
        if self.pending_playlists:
            now = time.monotonic()
            for _due, library_id in [p for p in self.pending_playlists if p[0] <= now]:
                self.library.publish_playlist(library_id)
            self.pending_playlists = [p for p in self.pending_playlists if p[0] > now]
        if not self.pending:
            return
        now = time.monotonic()
        ready = [item for item in self.pending if item[0] <= now]
        if not ready:
            return
        self.pending = [item for item in self.pending if item[0] > now]
        moment = dt.datetime.now(dt.timezone.utc)
        for _, kind, catalog_id in ready:
            self.library.add_item(kind, catalog_id, moment)


def open_accounts(options: EmulatorOptions) -> list[Account]:
    """Every user's account, each library generated from its :func:`user_seed` and the options' sizes."""
    accounts = []
    for user in range(options.users):
        library = Library(
            seed=user_seed(options.seed, user),
            hidden_every=options.hidden_every,
            playlist_tracks=options.playlist_tracks,
            playlist_repeats=options.playlist_repeats,
            songs_without_play_params_every=options.songs_without_play_params_every,
            withdrawn_every=options.withdrawn_every,
        )
        library.populate(
            options.albums, options.songs, options.artists, options.playlists, options.music_videos
        )
        library.history.populate(options.history, options.heavy_rotation)
        library.ratings.populate(library.seed)
        accounts.append(Account(user_token(options.seed, user), library))
    return accounts
