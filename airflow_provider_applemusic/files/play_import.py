"""One import of the privacy export: the source fetched, rows read, plays found, those in the ledger."""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.listens import is_play, join, ledger_row, pick_catalog_id
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.play_activity import (
    daily_tracks_rows,
    is_export_file,
    play_activity_rows,
)
from airflow_provider_applemusic.files.play_store import ledger_keys
from airflow_provider_applemusic.files.snapshots import local_copy

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_applemusic.api.listens import PlayRule
    from airflow_provider_applemusic.files.location import Location
    from airflow_provider_applemusic.files.play_activity import ExportFile
    from airflow_provider_applemusic.files.play_store import PlayStore

#: a ledger file: ``.../date=YYYY-MM-DD/<name>.<ext>``
LEDGER_FILE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/([^/]+)\.(jsonl|parquet)$")
#: malformed rows named in the log, per file (all are counted)
MALFORMED_SHOWN = 10
#: plays kept at a time
PLAYS_BATCH = 2_000


def fetch_source(source: Location, tmp: str) -> list[tuple[str, str]]:
    """
    The source on this machine, as ``(local path, name)``: a local file or folder where it is;
    from another store, the file, or each zip and export CSV under the folder, downloaded to
    ``tmp``. Nothing there raises a config error naming ``source``.
    """
    if source.local_path is not None:
        if not os.path.exists(source.local_path):
            raise AppleMusicConfigError(f"source: nothing at {source.uri}")
        return [(source.local_path, source.uri)]
    listed = source.files_under()
    files = [f for f in listed if is_export_file(f.uri)]
    if listed and not files:
        names = ", ".join(f.uri for f in listed[:20])
        raise AppleMusicConfigError(f"source: no zip and no export CSV under {source.uri} (found: {names})")
    if not files:
        if not source.exists():
            raise AppleMusicConfigError(f"source: no {source.noun} at {source.uri}")
        files = [source]
    fetched = []
    for index, remote in enumerate(files):
        folder = os.path.join(tmp, "source", str(index))
        os.makedirs(folder)
        local = os.path.join(folder, os.path.basename(remote.uri) or "export")
        remote.download(local)
        fetched.append((local, remote.uri))
    return fetched


class PlayImport:
    """
    The work of one import over its scratch ``store``, counted as it goes.

    :param store: the scratch store.
    :param rule: the play rule.
    :param log: where malformed rows and progress are told.
    """

    def __init__(self, store: PlayStore, rule: PlayRule, log: Any) -> None:
        self.store = store
        self.rule = rule
        self.log = log
        self.counts: Counter[str] = Counter()
        #: rows skipped, by reason
        self.skipped: Counter[str] = Counter()

    def read(self, found: list[ExportFile]) -> None:
        """Read every export file into the store: candidate segments and daily-tracks rows."""
        for export_file in found:
            told = self._malformed(export_file.name)
            if export_file.kind == "daily_tracks":
                for day, title, artist, catalog_id in daily_tracks_rows(export_file, self._daily(told)):
                    self.counts["daily_rows"] += 1
                    self.store.add_daily(day, title, artist, catalog_id)
                continue
            for item in play_activity_rows(export_file, self.rule, told):
                self.counts["rows_read"] += 1
                if isinstance(item, str):
                    self.skipped[item] += 1
                else:
                    self.store.add_segment(item)

    def _malformed(self, name: str) -> Callable[[int, str], None]:
        shown = [0]

        def told(row: int, why: str) -> None:
            shown[0] += 1
            if shown[0] <= MALFORMED_SHOWN:
                self.log.warning("Skipped a malformed row (row %d of %s): %s", row, name, why)
            elif shown[0] == MALFORMED_SHOWN + 1:
                self.log.warning("More malformed rows in %s: counted, not shown", name)

        return told

    def _daily(self, then: Callable[[int, str], None]) -> Callable[[int, str], None]:
        def told(row: int, why: str) -> None:
            self.counts["daily_malformed"] += 1
            then(row, why)

        return told

    def find_plays(self) -> None:
        """Join the segments into listens; keep the plays (with their catalog ids) in the store."""
        batch: list[dict[str, Any]] = []
        for listen in join(self.store.sorted_segments(), self.rule):
            if not is_play(listen, self.rule):
                self.skipped["not_a_play"] += listen.segments
                continue
            row = ledger_row(listen, None, None)
            day = row["played_at"][:10]
            candidates = self.store.daily_candidates(day, listen.first.song)
            catalog_id, artist = pick_catalog_id(candidates, day, listen.first.artist)
            if catalog_id is not None:
                row.update(id=catalog_id, catalog_id=catalog_id, artist_name=row["artist_name"] or artist)
                self.counts["with_catalog_id"] += 1
            self.counts["joined"] += listen.segments > 1
            batch.append(row)
            if len(batch) >= PLAYS_BATCH:
                self.counts["plays_found"] += self.store.add_plays(batch)
                batch.clear()
        self.counts["plays_found"] += self.store.add_plays(batch)

    def record_known(self, base: Location, own: str) -> int:
        """
        Record the plays of the ledger files under ``base`` in the days the plays found began
        on, except the files named ``own`` (this run's: a retry rewrites them); how many were read.
        """
        days = set(self.store.days())
        read = 0
        for remote in base.files_under():
            match = LEDGER_FILE.search(remote.uri)
            if match is None or match[1] not in days or match[2] == own:
                continue
            with local_copy(remote) as local:
                self.store.add_known(ledger_keys(local))
            read += 1
        self.log.info("Read the plays of %d ledger files in the %d days touched", read, len(days))
        return read

    def summary(self) -> dict[str, Any]:
        """The counts: rows read, plays found, rows skipped by reason, daily tracks, catalog ids."""
        return {
            "rows_read": self.counts["rows_read"],
            "plays_found": self.counts["plays_found"],
            "skipped": dict(sorted(self.skipped.items())),
            "daily_tracks": {"rows": self.counts["daily_rows"], "malformed": self.counts["daily_malformed"]},
            "with_catalog_id": self.counts["with_catalog_id"],
        }
