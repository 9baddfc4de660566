"""
Apple's privacy export read as delivered: folders, zips, nested zips and split parts; its CSVs by column name.

:func:`export_files` finds, under local paths (downloaded already), every
``Apple Music Play Activity.csv`` and ``Apple Music - Play History Daily Tracks.csv``, wherever
the layout of the year put them: in folders, in zips, in zips inside zips (each extracted to a
temporary file, never to memory), in parts ``... Part 1 of 2.zip`` (each a zip, or the pieces of
one zip, joined). A CSV given by itself is read as the play activity whatever its name.

:func:`play_activity_rows` streams the play activity one row at a time, its columns found by
name (case, spacing, a BOM and curly apostrophes aside; unknown columns ignored), as
:class:`~airflow_provider_applemusic.api.listens.Segment` or the reason it is skipped;
:func:`daily_tracks_rows` the daily-tracks file as ``(day, title, artist, catalog id)``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_applemusic.api.listens import Segment, skip_reason
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from airflow_provider_applemusic.api.listens import PlayRule

PLAY_ACTIVITY = "Apple Music Play Activity.csv"
DAILY_TRACKS = "Apple Music - Play History Daily Tracks.csv"
#: ``... Part 1 of 2.zip``: the pieces of a download
PART = re.compile(r"^(?P<stem>.*?)[\s_-]*part[\s_-]*(?P<index>\d+)[\s_-]*of[\s_-]*(?P<total>\d+)", re.I)
#: bytes copied at a time
CHUNK = 1024 * 1024
#: the play-activity fields the import reads, each with its header names across the years
#: (the first present wins: ``Album Name`` over ``Container Name``)
FIELDS: dict[str, tuple[str, ...]] = {
    "event_type": ("Event Type",),
    "end_time": ("Event End Timestamp",),
    "play_ms": ("Play Duration Milliseconds",),
    "media_ms": ("Media Duration In Milliseconds",),
    "end_reason": ("End Reason Type",),
    "media_type": ("Media Type",),
    "song": ("Song Name", "Content Name"),
    "album": ("Album Name", "Container Name"),
    "artist": ("Artist Name",),
    "device": ("Device Identifier",),
    "event_id": ("Event ID",),
}
#: without these a file is not a play activity
REQUIRED = ("end_time", "play_ms", "song")
DAILY_FIELDS: dict[str, tuple[str, ...]] = {
    "catalog_id": ("Track Identifier",),
    "day": ("Date Played",),
    "description": ("Track Description",),
}


def normalise(header: str) -> str:
    """A header name compared: no BOM, straight apostrophes, single spaces, case folded."""
    text = header.replace("\ufeff", "").replace("\u2019", "'")
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class ExportFile:
    """A CSV of the export: ``kind`` (``play_activity`` or ``daily_tracks``), where it is, its opener."""

    kind: str
    name: str
    opener: Callable[[], IO[bytes]]

    def open(self) -> IO[bytes]:
        """The file's bytes, streamed (close it)."""
        return self.opener()


def _kind(name: str) -> str | None:
    base = normalise(os.path.basename(name))
    if base == normalise(PLAY_ACTIVITY):
        return "play_activity"
    if base == normalise(DAILY_TRACKS):
        return "daily_tracks"
    return None


def is_export_file(name: str) -> bool:
    """Whether a file of a listed folder may hold the export: a zip or one of its two CSVs."""
    return (
        name.lower().endswith(".zip") or _kind(name) is not None or bool(PART.match(os.path.basename(name)))
    )


@contextlib.contextmanager
def export_files(paths: Sequence[tuple[str, str]]) -> Iterator[list[ExportFile]]:
    """
    Every export CSV under ``paths`` (``(local path, name shown in messages)``: files or
    folders), readable until the ``with`` block ends.
    """
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="applemusic-export-") as tmp:
        found: list[ExportFile] = []
        walker = _Walker(stack, tmp, found)
        files: list[tuple[str, str]] = []
        for path, name in paths:
            if os.path.isdir(path):
                for root, dirs, names in os.walk(path):
                    dirs.sort()
                    for base in sorted(names):
                        local = os.path.join(root, base)
                        files.append((local, f"{name.rstrip('/')}/{os.path.relpath(local, path)}"))
            else:
                files.append((path, name))
        for path, name in walker.join_parts(files):
            walker.visit(path, name, alone=len(paths) == 1 and not os.path.isdir(paths[0][0]))
        yield found


class _Walker:
    """Finds the CSVs in files, zips and zips in zips (extracted to ``tmp``)."""

    def __init__(self, stack: contextlib.ExitStack, tmp: str, found: list[ExportFile]) -> None:
        self.stack = stack
        self.tmp = tmp
        self.found = found
        self.extracted = 0

    def temporary(self) -> str:
        self.extracted += 1
        return os.path.join(self.tmp, f"{self.extracted}.zip")

    def join_parts(self, files: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The files, the pieces of one zip (parts that are not zips each) joined into one."""
        groups: dict[tuple[str, str, int], list[tuple[int, str, str]]] = {}
        rest = []
        for path, name in files:
            match = PART.match(os.path.basename(name))
            if match:
                key = (os.path.dirname(name), match["stem"].casefold(), int(match["total"]))
                groups.setdefault(key, []).append((int(match["index"]), path, name))
            else:
                rest.append((path, name))
        for (_, _, total), parts in groups.items():
            parts.sort()
            if all(zipfile.is_zipfile(path) and _opens(path) for _, path, _ in parts):
                rest += [(path, name) for _, path, name in parts]
                continue
            if [index for index, _, _ in parts] != list(range(1, total + 1)):
                found = ", ".join(name for _, _, name in parts)
                raise AppleMusicConfigError(
                    f"source: the pieces of one zip are not all there: {found} (of {total} parts)"
                )
            joined = self.temporary()
            with open(joined, "wb") as out:
                for _, path, _ in parts:
                    with open(path, "rb") as piece:
                        shutil.copyfileobj(piece, out, CHUNK)
            rest.append((joined, " + ".join(name for _, _, name in parts)))
        return rest

    def visit(self, path: str, name: str, *, alone: bool = False) -> None:
        kind = _kind(name)
        if kind is not None and not zipfile.is_zipfile(path):
            self.found.append(ExportFile(kind, name, partial(_open_binary, path)))
        elif zipfile.is_zipfile(path):
            self.visit_zip(path, name)
        elif alone:  # a CSV given by itself, named otherwise
            self.found.append(ExportFile("play_activity", name, partial(_open_binary, path)))

    def visit_zip(self, path: str, name: str) -> None:
        try:
            archive = self.stack.enter_context(zipfile.ZipFile(path))
        except zipfile.BadZipFile as err:
            raise AppleMusicConfigError(f"source: {name} is not a readable zip: {err}") from None
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = f"{name}!/{info.filename}"
            if info.filename.lower().endswith(".zip"):
                inner = self.temporary()
                with archive.open(info) as source, open(inner, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
                self.visit(inner, member)
                continue
            kind = _kind(info.filename)
            if kind is not None:
                self.found.append(ExportFile(kind, member, partial(archive.open, info)))


def _open_binary(path: str) -> IO[bytes]:
    return open(path, "rb")


def _opens(path: str) -> bool:
    """Whether ``path`` is a whole zip (its first member's header is where the directory says)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if infos:
                with archive.open(infos[0]) as member:
                    member.read(1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    return True


def _reader(stream: IO[bytes]) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    return csv.reader(text)


def _columns(header: list[str], fields: dict[str, tuple[str, ...]]) -> dict[str, int]:
    position = {normalise(name): index for index, name in enumerate(header)}
    columns = {}
    for field, names in fields.items():
        for name in names:
            if normalise(name) in position:
                columns[field] = position[normalise(name)]
                break
    return columns


def _not_an_export(name: str, header: list[str], what: str, missing: list[str]) -> AppleMusicConfigError:
    shown = ", ".join(header[:40]) + (f", ... ({len(header)} in all)" if len(header) > 40 else "")
    return AppleMusicConfigError(
        f"source: {name} is not {what} of Apple's privacy export: no column "
        f"{' / '.join(missing)}; the columns found: {shown or 'none'}"
    )


@contextlib.contextmanager
def _table(
    export_file: ExportFile,
    fields: dict[str, tuple[str, ...]],
    required: Sequence[str],
    what: str,
    on_malformed: Callable[[int, str], None],
) -> Iterator[tuple[dict[str, int], Iterator[tuple[int, list[str] | None]]]]:
    """
    A CSV file of the export, open: the columns of ``fields`` found in its header (a config error
    naming the file and its columns when one of ``required`` is not) and its rows.
    """
    with export_file.open() as stream:
        rows = _reader(stream)
        header = next(rows, [])
        columns = _columns(header, fields)
        missing = [" or ".join(fields[f]) for f in required if f not in columns]
        if missing:
            raise _not_an_export(export_file.name, header, what, missing)
        yield columns, _lines(rows, len(header), on_malformed)


def _lines(
    rows: Iterator[list[str]], width: int, on_malformed: Callable[[int, str], None]
) -> Iterator[tuple[int, list[str] | None]]:
    """
    ``(line, row)`` for each row after the header, ``row`` None for a malformed one
    (``on_malformed`` told why); blank lines skipped.
    """
    line = 1
    while True:
        line += 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as err:
            on_malformed(line, str(err))
            yield line, None
            continue
        if not row:
            continue
        well_formed = len(row) == width
        if not well_formed:
            on_malformed(line, f"{len(row)} fields, the header has {width}")
        yield line, row if well_formed else None


def epoch_ms(text: str) -> int:
    """An ISO 8601 time (``2018-10-12T00:35:49.792Z``; no zone: UTC) as ms since the epoch."""
    text = text.strip()
    moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return (moment - _EPOCH) // _MS


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MS = dt.timedelta(milliseconds=1)


def integer(text: str) -> int | None:
    """An integer cell: blank is None; ``1.8E+5`` (saved through a spreadsheet) is read too."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not a number: {text!r}") from None
        return int(value)


def play_activity_rows(
    export_file: ExportFile, rule: PlayRule, on_malformed: Callable[[int, str], None]
) -> Iterator[Segment | str]:
    """
    Each row of a play-activity file: a candidate :class:`Segment`, or why it is skipped
    (:func:`~airflow_provider_applemusic.api.listens.skip_reason`, ``no_end_time``,
    ``no_duration`` or ``malformed``; ``on_malformed(line, why)`` is told of each malformed row).
    A file without the play-activity columns raises a config error naming it and its columns.
    """
    with _table(export_file, FIELDS, REQUIRED, "the play activity", on_malformed) as (columns, lines):
        get = [columns.get(field) for field in FIELDS]
        for line, row in lines:
            yield "malformed" if row is None else _segment(row, get, rule, line, on_malformed)


def _segment(
    row: list[str], get: list[int | None], rule: PlayRule, line: int, on_malformed: Callable[[int, str], None]
) -> Segment | str:
    (
        event_type,
        end_time,
        play_ms,
        media_ms,
        end_reason,
        media_type,
        song,
        album,
        artist,
        device,
        event_id,
    ) = ("" if index is None else row[index] for index in get)
    reason = skip_reason(event_type, media_type, end_reason, song, rule)
    if reason is not None:
        return reason
    if not end_time.strip():
        return "no_end_time"
    try:
        end = epoch_ms(end_time)
        played = integer(play_ms)
        media = integer(media_ms)
    except ValueError as err:
        on_malformed(line, str(err))
        return "malformed"
    if played is None:
        return "no_duration"
    return Segment(
        device=device.strip(),
        song=song.strip(),
        album=album.strip(),
        end_ms=end,
        play_ms=played,
        media_ms=media if media and media > 0 else None,
        end_reason=end_reason.strip().upper(),
        event_id=event_id.strip() or None,
        artist=artist.strip() or None,
        media_type=media_type.strip().upper() or "AUDIO",
    )


def daily_tracks_rows(
    export_file: ExportFile, on_malformed: Callable[[int, str], None]
) -> Iterator[tuple[str, str, str | None, str]]:
    """
    The daily-tracks file as ``(day YYYY-MM-DD, title, artist, catalog id)``, the title and
    artist split from ``Track Description`` (``Artist - Title``) at the first `` - ``.
    """
    table = _table(export_file, DAILY_FIELDS, tuple(DAILY_FIELDS), "the daily tracks", on_malformed)
    with table as (columns, lines):
        for line, row in lines:
            if row is None:
                continue
            catalog_id = row[columns["catalog_id"]].strip()
            day = row[columns["day"]].strip()
            artist, separator, title = row[columns["description"]].partition(" - ")
            if not separator:
                artist, title = "", artist
            if not catalog_id or not re.fullmatch(r"\d{8}", day) or not title.strip():
                on_malformed(line, "no track identifier, date or description")
                continue
            yield f"{day[:4]}-{day[4:6]}-{day[6:]}", title.strip(), artist.strip() or None, catalog_id


def describe(found: Sequence[ExportFile]) -> dict[str, Any]:
    """What was found, by kind: the names."""
    return {kind: [f.name for f in found if f.kind == kind] for kind in ("play_activity", "daily_tracks")}
