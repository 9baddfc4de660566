"""
A realistic privacy export ("Apple Media Services information"), with the plays it holds as ground truth.

:func:`write_privacy_export` writes ``Apple Music Play Activity.csv`` in one of the header
variants Apple used (:data:`~.privacy_headers.HEADERS`: 2018, March and May 2019, August 2019,
2021, 2023 and a 145-column one with columns nobody has named) and the ``Apple Music - Play
History Daily Tracks.csv`` beside it, as Apple delivers them (:data:`CONTAINERS`: the CSV alone,
a folder, a zip, zips nested in zips, a download in parts that are zips each, or the pieces of
one zip).

The rows come from listening scenarios on three devices: whole plays (some with a stuck timer),
skips, partial listens either side of Last.fm's rule (half the track or 4 minutes, at least
30 s), listens cut into segments by pauses and scrubs (joined: one play), a pause longer than
30 minutes (two listens), ``PLAY_START`` and ``LYRIC_DISPLAY`` rows, videos, failures to load,
aggregate rows without a song, tracks without a media duration, uploads without a catalog id,
titles shared by several artists, and, on request, malformed rows. Ground truth
(:class:`ExportTruth`) lists the plays the rule must find, field by field as the ledger has
them, and the rows it must skip by reason. The emulator imports nothing of the provider.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.privacy_headers import DAILY_HEADER, HEADERS, VARIANTS

if TYPE_CHECKING:
    from collections.abc import Iterator

PLAY_ACTIVITY = "Apple Music Play Activity.csv"
DAILY_TRACKS = "Apple Music - Play History Daily Tracks.csv"
#: how the export is delivered
CONTAINERS = ("csv", "folder", "zip", "nested", "split", "pieces")
#: where the activity folder is, by era
ACTIVITY_2018 = (
    "App Store, iTunes Store, iBooks Store and Apple Music/"
    "App_Store_iTunes_Store_iBooks_Store_Apple_Music/Apple Music Activity"
)
ACTIVITY_2019 = "Apple Media Services information/Apple_Media_Services/Apple Music Activity"
DEVICES = (("d-iphone-4f2a", -18000), ("d-mac-77c1", -18000), ("d-homepod-0b9e", 3600))
JOIN_REASONS = (
    "PLAYBACK_MANUALLY_PAUSED",
    "PLAYBACK_SUSPENDED",
    "SCRUB_BEGIN",
    "SCRUB_END",
    "EXITED_APPLICATION",
)
_WORDS = "night blue river light gold fire rain city heart road summer glass echo wild stone dream".split()
_SHARED_TITLES = ("Intro", "Home", "Don\u2019t Stop", "Outro - Reprise")


@dataclass
class Track:
    """A track of the generated catalog."""

    title: str
    artist: str
    album: str
    duration_ms: int | None
    catalog_id: str | None


@dataclass
class ExportTruth:
    """
    What the export holds (``rows``: every data line, malformed ones too): ``plays`` (ledger
    fields: ``played_at``, ``name``, ``artist_name``,
    ``album_name``, ``catalog_id`` (what the daily-tracks join can find: none when ambiguous),
    ``duration_ms``, and ``true_catalog_id``, ``event_id``, ``device``), ``rows``
    written, ``skipped`` rows by reason, ``segments_joined`` (plays of more than one row),
    ``play_count`` (the plays, also when they are not listed).
    """

    plays: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    segments_joined: int = 0
    play_count: int = 0


@dataclass
class PrivacyExport:
    """A written export: ``source`` (what to import: a file or a folder), its ``files``, its truth."""

    source: str
    files: list[str]
    truth: ExportTruth
    variant: str
    container: str
    #: the size of ``Apple Music Play Activity.csv``, uncompressed
    activity_bytes: int = 0


def _iso(ms: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class _Generator:
    """Listening scenarios on three devices, as rows and ground truth."""

    def __init__(self, variant: str, seed: int, rows: int, keep_truth: bool, tracks: int | None) -> None:
        self.variant = variant
        self.columns = set(HEADERS[variant])
        #: draws the listening (the same whatever the variant: a newer export of the same history)
        self.rng = random.Random(f"privacy-export:{seed}")
        #: draws the values of the other columns and the event ids
        self.filler = random.Random(f"privacy-export-filler:{seed}:{variant}")
        self.target = rows
        self.keep_truth = keep_truth
        self.truth = ExportTruth()
        self.tracks = self._catalog(tracks or max(40, rows // 25))
        self.clock = int(dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
        self.free_at = [self.clock] * len(DEVICES)
        #: (local day YYYYMMDD, catalog id) -> [play count, skip count, ms, description, title]
        self.daily: dict[tuple[str, str], list[Any]] = {}
        #: rows say PLAY_START, PLAY_END, LYRIC_DISPLAY (2018's column is blank: an earlier era)
        self.has_types = "Event Type" in self.columns and variant != "2018"
        self.has_album = bool({"Album Name", "Container Name"} & self.columns)
        self.has_artist = "Artist Name" in self.columns
        self.has_ids = "Event ID" in self.columns

    def _catalog(self, size: int) -> list[Track]:
        rng = self.rng
        tracks = []
        artists = [
            f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}s" for _ in range(max(8, size // 6))
        ]
        for index in range(size):
            title = (
                _SHARED_TITLES[index % len(_SHARED_TITLES)]
                if index % 13 == 0
                else f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS)} {index}"
            )
            if index % 17 == 0:
                title += " - Live"
            duration = rng.choice([rng.randint(90_000, 420_000)] * 8 + [rng.randint(540_000, 900_000)])
            tracks.append(
                Track(
                    title=title,
                    artist=artists[index % len(artists)],
                    album=f"{rng.choice(_WORDS).title()} {index // 10}",
                    duration_ms=None if index % 29 == 5 else duration,
                    catalog_id=None if index % 11 == 3 else str(1_100_000_000 + index * 7),
                )
            )
        return tracks

    def rows(self, malformed: int) -> Iterator[dict[str, str] | str]:
        """Rows (by column name) until the target is reached; a ``str`` is a malformed line."""
        bad = sorted(self.filler.sample(range(1, self.target), min(malformed, self.target - 1)))
        emitted = 0
        while emitted < self.target:
            for row in self._scenario():
                if bad and emitted >= bad[0]:
                    bad.pop(0)
                    yield "malformed"
                    self.truth.skipped["malformed"] += 1
                    self.truth.rows += 1
                emitted += 1
                self.truth.rows += 1
                yield row

    def _scenario(self) -> list[dict[str, str]]:
        rng = self.rng
        device = rng.randrange(len(DEVICES))
        start = max(self.clock, self.free_at[device]) + rng.randint(1_000, 600_000)
        self.clock = start - rng.randint(0, 300_000)
        track = self.tracks[int(rng.paretovariate(1.2) * 7) % len(self.tracks)]
        kind = rng.choices(
            ["full", "skip", "partial", "segmented", "long_pause", "lyric", "video", "failed", "aggregate"],
            [35, 20, 10, 14, 4, 3, 3, 2, 3],
        )[0]
        if kind == "lyric" and not self.has_types:
            kind = "full"
        return getattr(self, f"_{kind}")(device, track, start)

    # --- scenarios: each returns its rows and records the truth --------------------------------

    def _full(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        media = track.duration_ms or self.rng.choice([45_000, 20_000])
        play = media
        rows = [self._start_row(device, track, start)] if self.rng.random() < 0.5 and self.has_types else []
        stuck = self.rng.random() < 0.03 and track.duration_ms
        reported = media * 40 if stuck else play
        rows.append(self._row(device, track, start + play, reported, "NATURAL_END_OF_TRACK"))
        self._listen(device, track, start, [rows[-1]], play, end=start + play)
        return rows

    def _skip(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        play = self.rng.randint(2_000, 25_000)
        row = self._row(device, track, start + play, play, "TRACK_SKIPPED_FORWARDS")
        self._listen(device, track, start, [row], play, end=start + play)
        return [row]

    def _partial(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        media = track.duration_ms
        if media is None:
            return self._full(device, track, start)
        # clearly either side of the rule: 70% (a play), 45% of a long track (4 minutes: a
        # play), 30% of a short one (not)
        fraction = 0.45 if media >= 540_000 else self.rng.choice([0.7, 0.3])
        play = int(media * fraction)
        row = self._row(device, track, start + play, play, "MANUALLY_SELECTED_PLAYBACK_OF_A_DIFF_ITEM")
        self._listen(device, track, start, [row], play, end=start + play)
        return [row]

    def _segmented(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        media = track.duration_ms or 200_000
        pieces = self.rng.randint(2, 4)
        share = self.rng.choice([0.9, 0.75, 0.36]) / pieces  # 0.36: not a play whole
        rows, moment, total = [], start, 0
        for piece in range(pieces):
            play = int(media * share)
            last = piece == pieces - 1
            reason = "TRACK_SKIPPED_FORWARDS" if last else self.rng.choice(JOIN_REASONS)
            rows.append(self._row(device, track, moment + play, play, reason, scrub=reason == "SCRUB_END"))
            total += play
            moment += play + (0 if last else self.rng.randint(500, 25 * 60_000))
        self._listen(device, track, start, rows, total, end=moment)
        return rows

    def _long_pause(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        media = track.duration_ms or 200_000
        first = int(media * 0.3)
        row = self._row(device, track, start + first, first, "PLAYBACK_MANUALLY_PAUSED")
        self._listen(device, track, start, [row], first, end=start + first)
        resume = start + first + self.rng.randint(31, 90) * 60_000
        second = int(media * 0.65)
        row2 = self._row(device, track, resume + second, second, "NATURAL_END_OF_TRACK")
        self._listen(device, track, resume, [row2], second, end=resume + second)
        return [row, row2]

    def _lyric(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        row = self._row(device, track, start + 60_000, 60_000, "", event_type="LYRIC_DISPLAY")
        self.truth.skipped["event_type:LYRIC_DISPLAY"] += 1
        return [row, *self._full(device, track, start)]

    def _video(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        row = self._row(device, track, start + 200_000, 200_000, "NATURAL_END_OF_TRACK", media_type="VIDEO")
        self.truth.skipped["media_type:VIDEO"] += 1
        self.free_at[device] = start + 200_000
        return [row]

    def _failed(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        self.truth.skipped["end_reason:FAILED_TO_LOAD"] += 1
        return [self._row(device, track, start + 100, 0, "FAILED_TO_LOAD")]

    def _aggregate(self, device: int, track: Track, start: int) -> list[dict[str, str]]:
        blank = Track("", "", "", None, None)
        self.truth.skipped["no_song_name"] += 1
        row = self._row(device, blank, start + 900_000, 900_000, "NOT_APPLICABLE")
        row["Item Type"] = "AGGREGATE_NON_CATALOG_PLAY_TIME"
        return [row]

    # --- rows and truth ------------------------------------------------------------------------

    def _start_row(self, device: int, track: Track, start: int) -> dict[str, str]:
        row = self._row(device, track, start, 0, "", event_type="PLAY_START")
        for name in ("Event End Timestamp", "Play Duration Milliseconds", "End Position In Milliseconds"):
            row[name] = ""
        self.truth.skipped["event_type:PLAY_START"] += 1
        return row

    def _row(
        self,
        device: int,
        track: Track,
        end: int,
        play: int,
        reason: str,
        *,
        event_type: str = "PLAY_END",
        media_type: str = "AUDIO",
        scrub: bool = False,
    ) -> dict[str, str]:
        rng = self.filler
        name, offset = DEVICES[device]
        kind = event_type if self.has_types else ""
        media = "" if track.duration_ms is None else str(track.duration_ms)
        return {
            "Event Start Timestamp": "" if scrub else _iso(end - max(play, 0)),
            "Event End Timestamp": _iso(end),
            "Event Received Timestamp": _iso(end + rng.randint(200, 86_400_000)),
            "Event Timestamp": _iso(end),
            "Song Name": track.title,
            "Content Name": track.title,
            "Artist Name": track.artist,
            "Album Name": track.album,
            "Container Name": track.album,
            "Container Type": "ALBUM",
            "Container ID": track.catalog_id or "",
            "Play Duration Milliseconds": str(play),
            "Media Duration In Milliseconds": media,
            "End Position In Milliseconds": str(max(play, 0)),
            "Start Position In Milliseconds": "0",
            "End Reason Type": reason,
            "Event Type": kind,
            "Media Type": media_type,
            "Device Identifier": name,
            "Event ID": f"{rng.getrandbits(64):016x}-{rng.getrandbits(32):08x}" if self.has_ids else "",
            "Item Type": "ITUNES_STORE_CONTENT" if track.catalog_id else "ARTIST_UPLOADED_CONTENT",
            "UTC Offset In Seconds": str(offset),
            "Apple Music Subscription": "true",
            "Offline": rng.choice(["false", "false", "true"]),
            "Apple Id Number": "12345678901",
            "Apple ID Number": "12345678901",
            "Build Version": "Music/1.4.5 iOS/17.2",
            "Store Country Name": "United States",
            "Store Front Name": "United States",
            "Client IP Address": f"198.51.100.{device + 10}",
            "Feature Name": rng.choice(["library / album_detail", "search / now_playing", "for_you"]),
            "Source Type": "ORIGINATING_DEVICE",
            "User\u2019s Audio Quality": "HIGH_QUALITY",
        }

    def _listen(
        self, device: int, track: Track, start: int, rows: list[dict[str, str]], played: int, end: int
    ) -> None:
        """Record a listen: a play when the rule says so (the thresholds chosen are never borderline)."""
        self.free_at[device] = max(self.free_at[device], end)
        media = track.duration_ms
        durations = [max(0, int(row["Play Duration Milliseconds"])) for row in rows]
        clamped = sum(min(d, media) if media else d for d in durations)
        play = clamped >= 30_000 and (media is None or clamped >= min(media / 2, 240_000))
        first = rows[0]
        if track.catalog_id:
            local = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=start, seconds=DEVICES[device][1])
            key = (local.strftime("%Y%m%d"), track.catalog_id)
            entry = self.daily.setdefault(key, [0, 0, 0, f"{track.artist} - {track.title}", track.title])
            entry[0 if play else 1] += 1
            entry[2] += played
        if not play:
            self.truth.skipped["not_a_play"] += len(rows)
            return
        self.truth.play_count += 1
        if len(rows) > 1:
            self.truth.segments_joined += 1
        if self.keep_truth:
            self.truth.plays.append(
                {
                    "played_at": _iso(start).replace("Z", "+00:00"),
                    "name": track.title,
                    "artist_name": track.artist if self.has_artist else None,
                    "album_name": track.album if self.has_album else None,
                    "catalog_id": track.catalog_id,
                    "true_catalog_id": track.catalog_id,
                    "duration_ms": media,
                    "event_id": first["Event ID"] or None,
                    "device": DEVICES[device][0],
                }
            )

    def daily_rows(self) -> Iterator[list[str]]:
        """The daily-tracks rows: one per (local day, track), with counts."""
        for (day, catalog_id), (plays, skips, ms, description, _) in sorted(self.daily.items()):
            hours = f"{self.filler.randint(0, 23)}, {self.filler.randint(0, 23)}"
            yield [
                "USA", catalog_id, "AUDIO", day, hours, str(ms), "NATURAL_END_OF_TRACK", "ORIGINATING_DEVICE",
                str(plays), str(skips), "false", self.filler.choice([catalog_id, "N/A"]), description,
            ]  # fmt: skip

    def resolve_truth(self) -> None:
        """The catalog id (and, without ``Artist Name``, the artist) the daily-tracks join can find."""
        by_title: dict[str, list[tuple[str, str, str]]] = {}
        for (day, catalog_id), (_, _, _, description, title) in self.daily.items():
            artist = description.partition(" - ")[0]
            iso_day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
            by_title.setdefault(title.casefold(), []).append((catalog_id, artist, iso_day))
        for play in self.truth.plays:
            date = dt.date.fromisoformat(play["played_at"][:10])
            near = {(date + dt.timedelta(days=d)).isoformat() for d in (-1, 0, 1)}
            rows = [r for r in by_title.get(play["name"].casefold(), []) if r[2] in near]
            chosen = [r for r in rows if r[2] == date.isoformat()] or rows
            if len({r[0] for r in chosen}) > 1 and play["artist_name"]:
                chosen = [r for r in chosen if r[1].casefold() == play["artist_name"].casefold()]
            ids = {r[0] for r in chosen}
            play["catalog_id"] = ids.pop() if len(ids) == 1 else None
            if play["artist_name"] is None and play["catalog_id"] is not None:
                play["artist_name"] = chosen[0][1]


def _write_csv(out: IO[bytes], header: list[str], rows: Iterator[Any], named: bool) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    for row in rows:
        if isinstance(row, str):  # a malformed line: a cut row, or a time that is none
            text.write("2019-01-01T00:00:00.000Z,,truncated\r\n")
            continue
        writer.writerow([row.get(name, "") for name in header] if named else row)
    text.flush()
    text.detach()


def _zip(path: str, members: list[tuple[str, str]]) -> str:
    """A zip at ``path`` of ``(arcname, local file)`` members (deflated; zip64 when large)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for arcname, local in members:
            archive.write(local, arcname)
    return path


def write_privacy_export(
    folder: str,
    *,
    rows: int = 2_000,
    variant: str = "2023",
    container: str = "nested",
    seed: int = 7,
    malformed: int = 0,
    keep_truth: bool = True,
    tracks: int | None = None,
) -> PrivacyExport:
    """
    Write a privacy export under ``folder`` and return where it is and what it holds.

    :param folder: an existing folder.
    :param rows: play-activity rows to write (about: the last scenario completes).
    :param variant: the header variant, one of :data:`VARIANTS`.
    :param container: how it is delivered, one of :data:`CONTAINERS`: ``csv`` (the play
        activity alone: no daily tracks, so no catalog ids), ``folder``, ``zip``, ``nested``
        (zips in zips), ``split`` (two parts, each a zip), ``pieces`` (one zip cut in two).
    :param seed: the seed of everything drawn.
    :param malformed: cut rows to put among the others.
    :param keep_truth: list the plays (off for very large exports: the counts stay).
    :param tracks: the size of the catalog drawn from (None: a 25th of ``rows``, at least 40).
        The same seed, variant and catalog give the same listening: an export of more rows is
        a newer export of the same history (the same rows, then more).
    """
    if variant not in HEADERS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if container not in CONTAINERS:
        raise ValueError(f"container must be one of {', '.join(CONTAINERS)}, got {container!r}")
    generator = _Generator(variant, seed, rows, keep_truth, tracks)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=folder)
    activity = os.path.join(staging, PLAY_ACTIVITY)
    daily = os.path.join(staging, DAILY_TRACKS)
    library = os.path.join(staging, "Apple Music Library Tracks.json")
    with open(activity, "wb") as out:
        _write_csv(out, HEADERS[variant], generator.rows(malformed), named=True)
    with open(daily, "wb") as out:
        _write_csv(out, DAILY_HEADER, generator.daily_rows(), named=False)
    with open(library, "w", encoding="utf-8") as out:
        out.write('[{"Title": "Intro", "Artist": "Blue Rivers"}]')
    size = os.path.getsize(activity)
    if container == "csv":
        for play in generator.truth.plays:
            play["catalog_id"] = None
        target = os.path.join(folder, PLAY_ACTIVITY)
        shutil.move(activity, target)
        shutil.rmtree(staging)
        return PrivacyExport(target, [target], generator.truth, variant, container, size)
    generator.resolve_truth()
    source, files = _package(folder, staging, container, variant)
    shutil.rmtree(staging)
    return PrivacyExport(source, files, generator.truth, variant, container, size)


def _package(folder: str, staging: str, container: str, variant: str) -> tuple[str, list[str]]:
    """The staged CSVs delivered as ``container``: ``(source, files)``."""
    csvs = [PLAY_ACTIVITY, DAILY_TRACKS, "Apple Music Library Tracks.json"]
    layout = ACTIVITY_2018 if variant == "2018" else ACTIVITY_2019
    if container in ("folder", "zip"):
        root = os.path.join(folder, "export")
        for name in csvs:
            os.makedirs(os.path.join(root, layout), exist_ok=True)
            shutil.copy(os.path.join(staging, name), os.path.join(root, layout, name))
        if container == "folder":
            return root, [os.path.join(root, layout, name) for name in csvs]
        target = _zip(os.path.join(folder, "Apple Media Services information.zip"),
                      [(f"{layout}/{name}", os.path.join(staging, name)) for name in csvs])  # fmt: skip
        return target, [target]
    # later years: zips in zips
    inside = [(f"Apple Music Activity/{name}", os.path.join(staging, name)) for name in csvs[:2]]
    activity = _zip(os.path.join(staging, "Apple Music Activity.zip"), inside)
    tracks = _zip(os.path.join(staging, "Apple Music Library Tracks.json.zip"),
                  [("Apple Music Library Tracks.json", os.path.join(staging, csvs[2]))])  # fmt: skip
    services = _zip(
        os.path.join(staging, "Apple_Media_Services.zip"),
        [
            ("Apple_Media_Services/Apple Music Activity.zip", activity),
            ("Apple_Media_Services/Apple Music Activity/Apple Music Library Tracks.json.zip", tracks),
        ],
    )
    download = os.path.join(folder, "download")
    os.makedirs(download, exist_ok=True)
    if container == "nested":
        target = _zip(os.path.join(download, "Apple Media Services information.zip"),
                      [("Apple Media Services information/Apple_Media_Services.zip", services)])  # fmt: skip
        return target, [target]
    parts = [os.path.join(download, f"Apple Media Services information Part {n} of 2.zip") for n in (1, 2)]
    if container == "split":
        account = os.path.join(staging, "Apple ID Account Information.csv")
        with open(account, "w", encoding="utf-8") as out:
            out.write("Apple ID Number,Country\n12345678901,USA\n")
        _zip(parts[0], [("Apple Media Services information/Apple ID account and device information/"
                         "Apple ID Account Information.csv", account)])  # fmt: skip
        _zip(parts[1], [("Apple Media Services information/Apple_Media_Services.zip", services)])
        return download, parts
    whole = _zip(os.path.join(staging, "whole.zip"),
                 [("Apple Media Services information/Apple_Media_Services.zip", services)])  # fmt: skip
    size = os.path.getsize(whole)
    with open(whole, "rb") as source:
        for index, part in enumerate(parts):
            with open(part, "wb") as out:
                out.write(source.read(size // 2 + 1) if index == 0 else source.read())
    return download, parts


def truth_summary(export: PrivacyExport) -> dict[str, Any]:
    """The ground truth as JSON-ready values (the command line prints it)."""
    truth = export.truth
    return {
        "source": export.source,
        "variant": export.variant,
        "container": export.container,
        "activity_bytes": export.activity_bytes,
        "rows": truth.rows,
        "plays": truth.play_count,
        "skipped": dict(sorted(truth.skipped.items())),
        "segments_joined": truth.segments_joined,
    }
