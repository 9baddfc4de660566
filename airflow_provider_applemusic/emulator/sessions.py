"""Listening sessions: bursts of plays as a user makes them (replays, library and catalog songs, videos)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from airflow_provider_applemusic.emulator.history import History


@dataclass(frozen=True)
class SessionMix:
    """
    What a listening session is made of: the share of each kind of play.

    :param repeat: the song played last, again (on repeat: the list cannot show it).
    :param replay: a song already in the play history, not on top (it moves to the top).
    :param library: a library song (``i.…``; an upload has no catalog id).
    :param video: a catalog music video.
    """

    repeat: float = 0.05
    replay: float = 0.25
    library: float = 0.25
    video: float = 1 / 12

    def __post_init__(self) -> None:
        for name in ("repeat", "replay", "library", "video"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a share from 0 to 1, got {value!r}")
        if self.repeat + self.replay > 1 or self.library + self.video > 1:
            raise ValueError("repeat + replay and library + video must each be at most 1")


def _next_play(
    history: History, rng: random.Random, last: tuple[str, str] | None, mix: SessionMix
) -> tuple[str, str]:
    """The ``(type, id)`` played next."""
    draw = rng.random()
    if last is not None and draw < mix.repeat:
        return last
    played = history.played
    if len(played) > 1 and draw < mix.repeat + mix.replay:
        return played[rng.randrange(1, len(played))]
    catalog = history.catalog
    songs = history.collections["library-songs"]
    draw = rng.random()
    videos = [i for i in catalog.items["music-videos"] if catalog.resolves("music-videos", i)]
    if videos and draw < mix.video:
        return "music-videos", rng.choice(videos)
    visible = [item.library_id for item in songs.visible()]
    if visible and draw < mix.video + mix.library:
        return "library-songs", rng.choice(visible)
    ids = [i for i in catalog.items["songs"] if catalog.resolves("songs", i)]
    if not ids:
        raise ValueError("the catalog has no songs to play")
    return "songs", rng.choice(ids)


def listening_session(
    history: History, rng: random.Random, start: dt.datetime | None, plays: int, mix: SessionMix
) -> list[tuple[dt.datetime, str, str]]:
    """
    Play ``plays`` songs one after the other and return them, oldest first: ``(at, type, id)``.

    :param history: the user's histories; each play goes through :meth:`History.play`.
    :param rng: draws the plays.
    :param start: when the first play starts (aware, not before the last play); each play then
        starts when the one before it ended. None: now, the plays a microsecond apart (a burst
        made at once, for a test that polls in real time).
    :param plays: how many (0 or more).
    :param mix: the shares of repeats, replays, library songs and music videos.
    """
    if isinstance(plays, bool) or not isinstance(plays, int) or plays < 0:
        raise ValueError(f"plays must be an integer of 0 or more, got {plays!r}")
    made: list[tuple[dt.datetime, str, str]] = []
    at = start if start is not None else dt.datetime.now(dt.timezone.utc)
    last: tuple[str, str] | None = history.log[-1][1:] if history.log else None
    for _ in range(plays):
        kind, item_id = last = _next_play(history, rng, last, mix)
        history.play(kind, item_id, at)
        made.append((at, kind, item_id))
        spent = history.duration_ms(kind, item_id) if start is not None else 0.001
        at += dt.timedelta(milliseconds=spent)
    return made
