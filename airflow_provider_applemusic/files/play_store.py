"""
The import's scratch space on disk (SQLite): segments sorted, daily tracks looked up, plays de-duplicated.

A lifetime export is hundreds of MB; what the import must hold at once (every segment, to sort
it by device and time; every daily-tracks row; every play id already in the ledger) goes to a
temporary SQLite file whose page cache is bounded (:data:`CACHE_KIB`), so memory stays flat
whatever the size. Also here: the play ids of a ledger file (:func:`ledger_play_ids`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.listens import Segment

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
CREATE TABLE plays (play_id TEXT PRIMARY KEY, day TEXT, played_at INTEGER, row TEXT) WITHOUT ROWID;
CREATE TABLE known (play_id TEXT PRIMARY KEY) WITHOUT ROWID;
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
        """Every segment kept, by device, then start, then end, then file order."""
        self._flush()
        cursor = self.db.execute(
            "SELECT device, song, album, end_ms, play_ms, media_ms, end_reason, event_id, artist,"
            " media_type FROM segments ORDER BY device, start, end_ms, seq"
        )
        for row in cursor:
            yield Segment(*row)

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
                "INSERT OR IGNORE INTO plays VALUES (?,?,?,?)",
                [
                    (
                        row["play_id"],
                        row["played_at"][:10],
                        row["played_at"],
                        json.dumps(row, ensure_ascii=False),
                    )
                    for row in plays
                ],
            )
        return self.db.total_changes - before

    def days(self) -> list[str]:
        """The days (UTC) the plays kept began on, in order."""
        return [day for (day,) in self.db.execute("SELECT DISTINCT day FROM plays ORDER BY day")]

    def add_known(self, play_ids: Iterable[str]) -> None:
        """Record play ids already in the ledger."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO known VALUES (?)", ((i,) for i in play_ids))

    def new_plays(self, day: str) -> tuple[list[dict[str, Any]], int]:
        """The plays of ``day`` not in the ledger yet, by time; and how many were."""
        rows = self.db.execute(
            "SELECT row, play_id IN (SELECT play_id FROM known) FROM plays WHERE day = ?"
            " ORDER BY played_at, play_id",
            (day,),
        ).fetchall()
        return [json.loads(row) for row, known in rows if not known], sum(known for _, known in rows)


def ledger_play_ids(path: str) -> Iterator[str]:
    """The ``play_id`` of each row of a ledger file on this machine (JSON Lines or Parquet)."""
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head == b"PAR1":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=["play_id"]):
            yield from (value for value in batch.column(0).to_pylist() if isinstance(value, str))
        return
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                value = json.loads(line).get("play_id")
                if isinstance(value, str):
                    yield value
