"""
What counts as a play in Apple's privacy export: rows to segments to listens to plays (pure).

Each row of ``Apple Music Play Activity.csv`` is a playback *segment*: a pause, a scrub or
leaving the app ends one. The rule, with :class:`PlayRule`'s defaults:

1. **Rows.** A row is a candidate segment when its ``Event Type`` is ``PLAY_END`` or blank
   (older rows; not ``PLAY_START`` nor ``LYRIC_DISPLAY``), its ``Media Type`` is not ``VIDEO``,
   its ``End Reason Type`` is not ``FAILED_TO_LOAD``, and it has a song name
   (:func:`skip_reason` says why a row is not). Its play duration is clamped to
   ``[0, media duration]`` (``[0, ∞)`` without a media duration); it *started* at its
   ``Event End Timestamp`` less that clamped duration (only end times are clock readings).
2. **Listens.** Candidate segments are taken per device in order of start (:func:`join`); a
   segment continues the listen of the device's previous segment when it has the same song name
   and album, the previous segment ended by ``PLAYBACK_MANUALLY_PAUSED``,
   ``PLAYBACK_SUSPENDED``, ``SCRUB_BEGIN``, ``SCRUB_END`` or ``EXITED_APPLICATION``, and it
   started at most 30 minutes after the previous one ended.
3. **Plays.** A listen is a play when it lasted (its segments' clamped durations summed) at least
   30 s and at least half the track or 4 minutes, whichever is less (Last.fm's rule); with no
   media duration, at least 30 s (:func:`is_play`).

``played_at`` is when the listen began: its first segment's start. ``play_id``
(:func:`play_id`) is a digest of the first segment's ``Event ID`` or, in exports without one, of
``played_at`` (ms), the device and the song name: the same listen read from another export of
the same kind has the same id, and two plays of one song at different times are two plays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: the end reasons after which the next segment of the same song may continue the listen
JOIN_END_REASONS = (
    "PLAYBACK_MANUALLY_PAUSED",
    "PLAYBACK_SUSPENDED",
    "SCRUB_BEGIN",
    "SCRUB_END",
    "EXITED_APPLICATION",
)
#: the ``source`` of every ledger row an import writes
SOURCE = "privacy-export"


@dataclass(frozen=True)
class PlayRule:
    """
    The knobs of the rule (see the module); :meth:`checked` refuses bad values naming the knob.

    :param event_types: the ``Event Type`` values of candidate rows (``""``: blank).
    :param skip_media_types: ``Media Type`` values never counted.
    :param skip_end_reasons: ``End Reason Type`` values never counted.
    :param join_end_reasons: end reasons after which the next segment may continue the listen.
    :param join_within_seconds: the longest pause between two segments of one listen.
    :param min_seconds: the shortest play.
    :param min_fraction: the part of the track a play lasts at least...
    :param enough_seconds: ...unless it lasts this long.
    """

    event_types: frozenset[str] = frozenset({"PLAY_END", ""})
    skip_media_types: frozenset[str] = frozenset({"VIDEO"})
    skip_end_reasons: frozenset[str] = frozenset({"FAILED_TO_LOAD"})
    join_end_reasons: frozenset[str] = frozenset(JOIN_END_REASONS)
    join_within_seconds: float = 1800.0
    min_seconds: float = 30.0
    min_fraction: float = 0.5
    enough_seconds: float = 240.0

    @classmethod
    def checked(cls, **knobs: Any) -> PlayRule:
        """A rule from keyword knobs (the operator's parameters of the same names), each checked."""
        values: dict[str, Any] = {}
        for name, value in knobs.items():
            if name not in cls.__dataclass_fields__:
                raise AppleMusicConfigError(f"{name} is not a knob of the play rule")
            if name in ("event_types", "skip_media_types", "skip_end_reasons", "join_end_reasons"):
                values[name] = _names(name, value)
            else:
                values[name] = _number(name, value, fraction=name == "min_fraction")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The rule as plain values (logged and returned)."""
        return {
            "event_types": sorted(self.event_types),
            "skip_media_types": sorted(self.skip_media_types),
            "skip_end_reasons": sorted(self.skip_end_reasons),
            "join_end_reasons": sorted(self.join_end_reasons),
            "join_within_seconds": self.join_within_seconds,
            "min_seconds": self.min_seconds,
            "min_fraction": self.min_fraction,
            "enough_seconds": self.enough_seconds,
        }


def _names(name: str, value: Any) -> frozenset[str]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value or ()):
        raise AppleMusicConfigError(f"{name} must be a list of strings, got {value!r}")
    return frozenset(v.strip().upper() for v in value)


def _number(name: str, value: Any, *, fraction: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AppleMusicConfigError(f"{name} must be a number, got {value!r}")
    if value < 0 or (fraction and value > 1):
        allowed = "between 0 and 1" if fraction else "0 or more"
        raise AppleMusicConfigError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


class Segment(NamedTuple):
    """One candidate row: what the rule reads of it (times in ms since the epoch, UTC)."""

    device: str
    song: str
    album: str
    end_ms: int
    play_ms: int
    media_ms: int | None
    end_reason: str
    event_id: str | None = None
    artist: str | None = None
    media_type: str = "AUDIO"

    @property
    def played_ms(self) -> int:
        """The play duration clamped to ``[0, media duration]``."""
        return clamp(self.play_ms, self.media_ms)

    @property
    def start_ms(self) -> int:
        """When the segment started: its end less its clamped duration."""
        return self.end_ms - self.played_ms


def clamp(play_ms: int, media_ms: int | None) -> int:
    """A play duration clamped to ``[0, media_ms]`` (``[0, ∞)`` when there is no media duration)."""
    if play_ms < 0:
        return 0
    if media_ms is not None and media_ms > 0 and play_ms > media_ms:
        return media_ms
    return play_ms


def skip_reason(event_type: str, media_type: str, end_reason: str, song: str, rule: PlayRule) -> str | None:
    """Why a row is not a candidate segment (``"event_type:PLAY_START"``...), or None when it is."""
    event = event_type.strip().upper()
    if event not in rule.event_types:
        return f"event_type:{event}"
    media = media_type.strip().upper()
    if media in rule.skip_media_types:
        return f"media_type:{media}"
    reason = end_reason.strip().upper()
    if reason in rule.skip_end_reasons:
        return f"end_reason:{reason}"
    if not song.strip():
        return "no_song_name"
    return None


@dataclass
class Listen:
    """Segments of one listen: the first one, how many, and how long in all (clamped)."""

    first: Segment
    last: Segment
    segments: int
    played_ms: int

    @property
    def media_ms(self) -> int | None:
        """The track's duration: the first segment's that has one."""
        return self.first.media_ms if self.first.media_ms else self.last.media_ms or None

    @property
    def played_at_ms(self) -> int:
        """When the listen began: the first segment's start."""
        return self.first.start_ms


def continues(listen: Listen, segment: Segment, rule: PlayRule) -> bool:
    """Whether ``segment`` (the device's next, by start) continues ``listen``."""
    last = listen.last
    return (
        segment.device == last.device
        and segment.song == last.song
        and segment.album == last.album
        and last.end_reason.strip().upper() in rule.join_end_reasons
        and segment.start_ms - last.end_ms <= rule.join_within_seconds * 1000
    )


def join(segments: Iterable[Segment], rule: PlayRule) -> Iterator[Listen]:
    """
    The listens of ``segments``, which come sorted by device, then start (then end): each
    segment continues the listen before it or begins a new one.
    """
    current: Listen | None = None
    for segment in segments:
        if current is not None and continues(current, segment, rule):
            current.last = segment
            current.segments += 1
            current.played_ms += segment.played_ms
            continue
        if current is not None:
            yield current
        current = Listen(segment, segment, 1, segment.played_ms)
    if current is not None:
        yield current


def is_play(listen: Listen, rule: PlayRule) -> bool:
    """Whether ``listen`` is a play: at least ``min_seconds``, and half the track or ``enough_seconds``."""
    played = listen.played_ms
    if played < rule.min_seconds * 1000:
        return False
    media = listen.media_ms
    if media is None:
        return True
    return played >= min(media * rule.min_fraction, rule.enough_seconds * 1000)


def play_id(listen: Listen) -> str:
    """The listen's stable id: a digest of its first ``Event ID``, else of its start, device and song."""
    first = listen.first
    if first.event_id:
        key = f"event|{first.event_id}"
    else:
        key = f"segment|{listen.played_at_ms}|{first.device}|{first.song}"
    return hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


def iso_ms(epoch_ms: int) -> str:
    """A time in ms since the epoch as ISO 8601 UTC with milliseconds."""
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds")


def ledger_row(listen: Listen, catalog_id: str | None, artist: str | None) -> dict[str, Any]:
    """
    The ledger row of a play (the schema of ``ListeningHistoryOperator``'s ledger): ``played_at``
    and ``estimated_played_at`` are when it began, ``observed_*`` are null, ``source`` is
    ``privacy-export``; ``id`` is the catalog id when the daily-tracks file gave one.
    """
    first = listen.first
    played_at = iso_ms(listen.played_at_ms)
    return {
        "kind": "play",
        "play_id": play_id(listen),
        "id": catalog_id,
        "type": "music-videos" if first.media_type.strip().upper() == "VIDEO" else "songs",
        "catalog_id": catalog_id,
        "name": first.song,
        "artist_name": first.artist or artist,
        "album_name": first.album or None,
        "duration_ms": listen.media_ms,
        "observed_after": None,
        "observed_before": None,
        "estimated_played_at": played_at,
        "played_at": played_at,
        "source": SOURCE,
    }


def pick_catalog_id(
    candidates: Iterable[tuple[str, str | None, str]], day: str, artist: str | None
) -> tuple[str | None, str | None]:
    """
    The catalog id (and artist) of a play from the daily-tracks rows of its title around its
    day (``(catalog id, artist, day)``): those of the same day, else of the day before or after;
    one id, or one once narrowed to the play's artist. Several: none (never a guess).
    """
    rows = list(candidates)
    chosen = [row for row in rows if row[2] == day] or rows
    if len({row[0] for row in chosen}) > 1 and artist:
        wanted = artist.casefold()
        chosen = [row for row in chosen if (row[1] or "").casefold() == wanted]
    ids = {row[0] for row in chosen}
    if len(ids) != 1:
        return None, None
    catalog_id = ids.pop()
    return catalog_id, next((row[1] for row in chosen if row[1]), None)
