"""
The import's scratch space on disk (SQLite): segments sorted, daily tracks looked up, plays de-duplicated.

A lifetime export is hundreds of MB; what the import must hold at once (every segment, to sort
it by device and time; every daily-tracks row; every play id already in the ledger) goes to a
temporary SQLite file whose page cache is bounded (:data:`CACHE_KIB`), so memory stays flat
whatever the size. Also here: the keys of the plays of a ledger file (:func:`ledger_keys`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sqlite3
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.listens import SOURCE, Segment

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: SQLite's page cache, KiB
CACHE_KIB = 16 * 1024
#: rows inserted at a time
BATCH = 5_000
#: rows read at a time from a Parquet ledger file
PARQUET_BATCH_ROWS = 10_000

_SCHEMA = """
CREATE TABLE segments (
    device TEXT, start INTEGER, end_ms INTEGER, seq INTEGER, song TEXT, album TEXT,
    play_ms INTEGER, media_ms INTEGER, end_reason TEXT, event_id TEXT, artist TEXT, media_type TEXT
);
CREATE TABLE daily (title TEXT, day TEXT, artist TEXT, catalog_id TEXT);
CREATE TABLE plays (play_id TEXT PRIMARY KEY, day TEXT, played_at TEXT, natural TEXT, row TEXT) WITHOUT ROWID;
CREATE TABLE known (play_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE known_natural (natural TEXT PRIMARY KEY) WITHOUT ROWID;
"""


class PlayStore:
    """
    The scratch database of one import, in ``folder`` (removed with it).

    :param folder: a temporary folder.
    """

    def __init__(self, folder: str) -> None:
        self.db = sqlite3.connect(os.path.join(folder, "import.sqlite"))
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self._segments: list[tuple[Any, ...]] = []
        self._daily: list[tuple[str, str, str | None, str]] = []
        self._sequence = 0
        self._indexed = False

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def add_segment(self, segment: Segment) -> None:
        """Keep a candidate segment (buffered)."""
        self._sequence += 1
        self._segments.append((segment.device, segment.start_ms, self._sequence, *segment[1:]))
        if len(self._segments) >= BATCH:
            self._flush()

    def add_daily(self, day: str, title: str, artist: str | None, catalog_id: str) -> None:
        """Keep a daily-tracks row (buffered)."""
        self._daily.append((title.casefold(), day, artist, catalog_id))
        if len(self._daily) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        with self.db:
            if self._segments:
                self.db.executemany(
                    "INSERT INTO segments (device, start, seq, song, album, end_ms, play_ms, media_ms,"
                    " end_reason, event_id, artist, media_type) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    self._segments,
                )
            if self._daily:
                self.db.executemany("INSERT INTO daily VALUES (?,?,?,?)", self._daily)
        self._segments.clear()
        self._daily.clear()

    def sorted_segments(self) -> Iterator[Segment]:
        """Every segment kept, by device, then start, then end, then file order (a repeated row once)."""
        self._flush()
        cursor = self.db.execute(
            "SELECT device, song, album, end_ms, play_ms, media_ms, end_reason, event_id, artist,"
            " media_type FROM segments ORDER BY device, start, end_ms, seq"
        )
        previous = None
        for row in cursor:
            if row != previous:  # the same row read twice (an export given twice) counts once
                yield Segment(*row)
            previous = row

    def daily_candidates(self, day: str, title: str) -> list[tuple[str, str | None, str]]:
        """Daily-tracks rows ``(catalog id, artist, day)`` of ``title`` on ``day`` or a day either side."""
        if not self._indexed:
            self._flush()
            self.db.execute("CREATE INDEX daily_title ON daily (title, day)")
            self._indexed = True
        date = dt.date.fromisoformat(day)
        low, high = (date - dt.timedelta(days=1)).isoformat(), (date + dt.timedelta(days=1)).isoformat()
        return self.db.execute(
            "SELECT DISTINCT catalog_id, artist, day FROM daily WHERE title = ? AND day BETWEEN ? AND ?",
            (title.casefold(), low, high),
        ).fetchall()

    def add_plays(self, plays: Iterable[dict[str, Any]]) -> int:
        """Keep plays (ledger rows); how many were new (a play id seen already in this import is not)."""
        before = self.db.total_changes
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO plays VALUES (?,?,?,?,?)",
                [
                    (
                        row["play_id"],
                        row["played_at"][:10],
                        row["played_at"],
                        natural_key(dt.datetime.fromisoformat(row["played_at"]), row["name"]),
                        json.dumps(row, ensure_ascii=False),
                    )
                    for row in plays
                ],
            )
        return self.db.total_changes - before

    def days(self) -> list[str]:
        """The days (UTC) the plays kept began on, in order."""
        return [day for (day,) in self.db.execute("SELECT DISTINCT day FROM plays ORDER BY day")]

    def add_known(self, keys: Iterable[tuple[str, str | None]]) -> None:
        """Record plays already in the ledger: ``(play id, natural key or None)``."""
        with self.db:
            for play_id, natural in keys:
                self.db.execute("INSERT OR IGNORE INTO known VALUES (?)", (play_id,))
                if natural is not None:
                    self.db.execute("INSERT OR IGNORE INTO known_natural VALUES (?)", (natural,))

    def new_plays(self) -> Iterator[tuple[str, list[dict[str, Any]], int]]:
        """
        Day by day (UTC, in order): the day, its plays not in the ledger yet (by time), and how
        many of its plays were. One pass over the plays, one day held at a time.
        """
        cursor = self.db.execute(
            "SELECT p.day, p.row, k.play_id IS NOT NULL OR n.natural IS NOT NULL FROM plays p"
            " LEFT JOIN known k USING (play_id) LEFT JOIN known_natural n USING (natural)"
            " ORDER BY p.day, p.played_at, p.play_id"
        )
        for day, group in itertools.groupby(cursor, key=lambda row: row[0]):
            rows, known = [], 0
            for _, row, is_known in group:
                if is_known:
                    known += 1
                else:
                    rows.append(json.loads(row))
            yield day, rows, known


def natural_key(played_at: dt.datetime, name: Any) -> str:
    """
    A privacy-export play's other key: its start (ms) and song name. An export without
    ``Event ID`` gives other play ids than a newer one with them; the start and the song stay.
    """
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return f"{(played_at.astimezone(dt.timezone.utc) - epoch) // dt.timedelta(milliseconds=1)}|{name}"


def ledger_keys(path: str) -> Iterator[tuple[str, str | None]]:
    """
    ``(play_id, natural key)`` of each row of a ledger file on this machine (JSON Lines or
    Parquet); the natural key (:func:`natural_key`) of ``privacy-export`` rows only, else None.
    """
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head == b"PAR1":
        yield from _parquet_keys(path)
        return
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield from _keys(json.loads(line))


def _keys(row: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    play_id = row.get("play_id")
    if not isinstance(play_id, str):
        return
    played_at = row.get("played_at")
    if isinstance(played_at, str) and row.get("source") == SOURCE:
        yield play_id, natural_key(dt.datetime.fromisoformat(played_at), row.get("name"))
    else:
        yield play_id, None


def _parquet_keys(path: str) -> Iterator[tuple[str, str | None]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    wanted = [c for c in ("play_id", "played_at", "name", "source") if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
        for row in batch.to_pylist():
            played_at = row.get("played_at")
            if isinstance(played_at, dt.datetime):
                row["played_at"] = played_at.isoformat()
            yield from _keys(row)
