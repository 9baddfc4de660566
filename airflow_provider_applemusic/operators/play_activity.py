"""PlayActivityImportOperator: the lifetime listening history, from Apple's privacy export, to the ledger."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections import Counter
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.listens import (
    JOIN_END_REASONS,
    PlayRule,
    is_play,
    join,
    ledger_row,
    pick_catalog_id,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import resolve_format
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.files.play_activity import (
    PLAY_ACTIVITY,
    daily_tracks_rows,
    describe,
    export_files,
    is_export_file,
    play_activity_rows,
)
from airflow_provider_applemusic.files.play_store import PlayStore, ledger_keys
from airflow_provider_applemusic.files.snapshots import local_copy
from airflow_provider_applemusic.operators.base import (
    DEFAULT_CONN_ID,
    AppleMusicBaseOperator,
    FileOutputMixin,
)
from airflow_provider_applemusic.operators.listening_history import EXTENSIONS, LEDGER_FORMATS, file_name

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.files.location import Location
    from airflow_provider_applemusic.files.play_activity import ExportFile

#: a ledger file: ``.../date=YYYY-MM-DD/<name>.<ext>``
LEDGER_FILE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/([^/]+)\.(jsonl|parquet)$")
#: malformed rows named in the log, per file (all are counted)
MALFORMED_SHOWN = 10
#: plays kept at a time
PLAYS_BATCH = 2_000


class PlayActivityImportOperator(FileOutputMixin, AppleMusicBaseOperator):
    """
    Import the lifetime listening history from Apple's privacy export into the play ledger.

    ``source`` is the export as Apple delivers it, in any store: the download's zip (zips inside
    zips are opened), a folder (its files, parts ``... Part 1 of 2.zip`` included, each a zip or
    the pieces of one), or ``Apple Music Play Activity.csv`` itself. The play activity is read as
    a stream, its columns found by name (every header variant Apple used; unknown columns
    ignored); segments are sorted on disk (a temporary SQLite file), so memory stays flat.

    What counts as a play is the rule of :mod:`airflow_provider_applemusic.api.listens` (each
    knob below is a parameter): ``PLAY_END`` or blank rows, not videos, not failures to load,
    with a song name; segments of one listen joined; a listen is a play when it lasted at least
    30 s and half the track or 4 minutes. Each play is written as a ledger row
    (``ListeningHistoryOperator``'s schema) with ``source`` ``privacy-export``, ``played_at``
    (and ``estimated_played_at``) when the listen began, ``play_id`` from its first ``Event ID``
    (or its start, device and song), ``catalog_id`` (and ``id``) from the daily-tracks file when
    the export has one and the (day, title) match is unambiguous.

    Files: one per day the plays began on (UTC), ``<path>/date=YYYY-MM-DD/<run id>.<ext>``,
    each written atomically. **No duplicates:** before writing, the ledger files already in the
    partitions of those days (other than this run's own, which a retry rewrites) are read for
    their ``play_id``\\ s, and plays already there are left out: importing the same or a newer
    export again adds nothing new twice.

    :param source: the export: a zip, a folder or the CSV; a URL (``s3://bucket/export.zip``,
        ``file:///data/export/``) or an ``ObjectStoragePath``. (templated)
    :param path: the ledger's base, as ``ListeningHistoryOperator``'s. (templated)
    :param file_format: ``jsonl`` or ``parquet`` (snappy).
    :param storage_conn_id: the stores' connection (None: the scheme's default). (templated)
    :param source_conn_id: the source's connection, when not ``storage_conn_id``. (templated)
    :param event_types: ``Event Type`` values of rows that may count (``""``: blank).
    :param skip_media_types: ``Media Type`` values never counted.
    :param skip_end_reasons: ``End Reason Type`` values never counted.
    :param join_end_reasons: end reasons after which the next segment may continue the listen.
    :param join_within_seconds: the longest pause within one listen.
    :param min_seconds: the shortest play.
    :param min_fraction: the part of the track a play lasts at least...
    :param enough_seconds: ...unless it lasts this long.
    :param apple_music_conn_id: the ``apple_music`` connection (not used by the import). (templated)
    :return: ``{"path", "files", "rows_read", "plays_found", "plays_written",
        "already_in_ledger", "skipped", "daily_tracks", "with_catalog_id", "format", "rule"}``
        (``skipped``: rows by reason); the same is the extra of every outlet asset's event.
    """

    template_fields: Sequence[str] = (
        "source",
        "path",
        "storage_conn_id",
        "source_conn_id",
        "apple_music_conn_id",
    )

    def __init__(
        self,
        *,
        source: Any,
        path: Any,
        file_format: str = "jsonl",
        storage_conn_id: str | None = None,
        source_conn_id: str | None = None,
        event_types: Sequence[str] = ("PLAY_END", ""),
        skip_media_types: Sequence[str] = ("VIDEO",),
        skip_end_reasons: Sequence[str] = ("FAILED_TO_LOAD",),
        join_end_reasons: Sequence[str] = JOIN_END_REASONS,
        join_within_seconds: float = 1800,
        min_seconds: float = 30,
        min_fraction: float = 0.5,
        enough_seconds: float = 240,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        if file_format not in LEDGER_FORMATS:
            raise AppleMusicConfigError(
                f"file_format must be one of {', '.join(LEDGER_FORMATS)}, got {file_format!r}"
            )
        from airflow.sdk import ObjectStoragePath

        for name, value in (("source", source), ("path", path)):
            if not isinstance(value, (str, ObjectStoragePath)) or not str(value).strip():
                raise AppleMusicConfigError(
                    f"{name} must be a URL such as 's3://bucket/export.zip' or an ObjectStoragePath, "
                    f"got {value!r}"
                )
        self.rule = PlayRule.checked(
            event_types=event_types,
            skip_media_types=skip_media_types,
            skip_end_reasons=skip_end_reasons,
            join_end_reasons=join_end_reasons,
            join_within_seconds=join_within_seconds,
            min_seconds=min_seconds,
            min_fraction=min_fraction,
            enough_seconds=enough_seconds,
        )
        super().__init__(apple_music_conn_id=apple_music_conn_id, **kwargs)
        self.file_format, self.compression = resolve_format(file_format, "auto")
        self.source = source
        self.path = path
        self.storage_conn_id = storage_conn_id
        self.source_conn_id = source_conn_id
        self.replace = True

    def ledger_file(self, day: str, run_id: str) -> Location:
        """Where the plays of ``day`` go: ``<path>/date=YYYY-MM-DD/<run id>.<ext>``."""
        name = f"date={day}/{file_name(run_id)}.{EXTENSIONS[self.file_format]}"
        if isinstance(self.path, str):
            return location(f"{self.path.rstrip('/')}/{name}", self.storage_conn_id)
        return location(self.path / name, self.storage_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        now = dt.datetime.now(dt.timezone.utc)
        run_id = str(context.get("run_id") or f"manual__{now.isoformat(timespec='seconds')}")
        self.ledger_file("2000-01-01", run_id)  # checks path before anything is read
        base = location(_folder(self.path), self.storage_conn_id)
        source = location(_folder(self.source), self.source_conn_id or self.storage_conn_id, param="source")
        counts: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        with tempfile.TemporaryDirectory(prefix="applemusic-import-") as tmp:
            store = PlayStore(tmp)
            try:
                with export_files(self._fetch(source, tmp)) as found:
                    self.log.info("Export files found in %s: %s", source.uri, describe(found))
                    if not any(f.kind == "play_activity" for f in found):
                        raise AppleMusicConfigError(
                            f"source: no {PLAY_ACTIVITY!r} in {source.uri}: not a privacy export with "
                            "the Apple Music activity (request 'Apple Media Services information' at "
                            "privacy.apple.com)"
                        )
                    self._stage(found, store, counts, skipped)
                self._find_plays(store, counts, skipped)
                self._known(store, base, run_id)
                result = self._write_days(store, run_id)
            finally:
                store.close()
        result.update(
            path=base.uri,
            rows_read=counts["rows_read"],
            plays_found=counts["plays_found"],
            skipped=dict(sorted(skipped.items())),
            daily_tracks={"rows": counts["daily_rows"], "malformed": counts["daily_malformed"]},
            with_catalog_id=counts["with_catalog_id"],
            format=self.file_format,
            rule=self.rule.as_dict(),
        )
        self.log.info(
            "%d rows read; %d plays found (%d of several segments, %d with a catalog id); %d already "
            "in the ledger; %d written in %d files; rows skipped by reason: %s",
            result["rows_read"], result["plays_found"], counts["joined"], result["with_catalog_id"],
            result["already_in_ledger"], result["plays_written"], result["files"], result["skipped"],
        )  # fmt: skip
        self.emit_asset_events(context, result)
        return result

    def _fetch(self, source: Location, tmp: str) -> list[tuple[str, str]]:
        """The source on this machine: ``(local path, name)`` of the file, or of each export file under it."""
        if source.local_path is not None:
            if not os.path.exists(source.local_path):
                raise AppleMusicConfigError(f"source: nothing at {source.uri}")
            return [(source.local_path, source.uri)]
        listed = source.files_under()
        files = [f for f in listed if is_export_file(f.uri)]
        if listed and not files:
            names = ", ".join(f.uri for f in listed[:20])
            raise AppleMusicConfigError(
                f"source: no zip and no export CSV under {source.uri} (found: {names})"
            )
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

    def _stage(
        self, found: list[ExportFile], store: PlayStore, counts: Counter[str], skipped: Counter[str]
    ) -> None:
        """Read every export file into the scratch store; count rows and skips."""
        for export_file in found:
            on_malformed = self._malformed_logger(export_file.name)
            if export_file.kind == "daily_tracks":
                daily_malformed = self._counter(counts, "daily_malformed", on_malformed)
                for day, title, artist, catalog_id in daily_tracks_rows(export_file, daily_malformed):
                    counts["daily_rows"] += 1
                    store.add_daily(day, title, artist, catalog_id)
                continue
            for item in play_activity_rows(export_file, self.rule, on_malformed):
                counts["rows_read"] += 1
                if isinstance(item, str):
                    skipped[item] += 1
                else:
                    store.add_segment(item)

    def _malformed_logger(self, name: str) -> Callable[[int, str], None]:
        shown = [0]

        def told(row: int, why: str) -> None:
            shown[0] += 1
            if shown[0] <= MALFORMED_SHOWN:
                self.log.warning("Skipped a malformed row (row %d of %s): %s", row, name, why)
            elif shown[0] == MALFORMED_SHOWN + 1:
                self.log.warning("More malformed rows in %s: counted, not shown", name)

        return told

    @staticmethod
    def _counter(
        counts: Counter[str], key: str, then: Callable[[int, str], None]
    ) -> Callable[[int, str], None]:
        def told(row: int, why: str) -> None:
            counts[key] += 1
            then(row, why)

        return told

    def _find_plays(self, store: PlayStore, counts: Counter[str], skipped: Counter[str]) -> None:
        """Join the segments into listens; keep the plays (with their catalog ids) in the store."""
        batch: list[dict[str, Any]] = []
        for listen in join(store.sorted_segments(), self.rule):
            if not is_play(listen, self.rule):
                skipped["not_a_play"] += listen.segments
                continue
            row = ledger_row(listen, None, None)
            day = row["played_at"][:10]
            catalog_id, artist = pick_catalog_id(
                store.daily_candidates(day, listen.first.song), day, listen.first.artist
            )
            if catalog_id is not None:
                row.update(id=catalog_id, catalog_id=catalog_id, artist_name=row["artist_name"] or artist)
                counts["with_catalog_id"] += 1
            counts["joined"] += listen.segments > 1
            batch.append(row)
            if len(batch) >= PLAYS_BATCH:
                counts["plays_found"] += store.add_plays(batch)
                batch.clear()
        counts["plays_found"] += store.add_plays(batch)

    def _known(self, store: PlayStore, base: Location, run_id: str) -> None:
        """Record the play ids of the ledger's files in the days touched (not this run's own)."""
        days = set(store.days())
        own = file_name(run_id)
        read = 0
        for remote in base.files_under():
            match = LEDGER_FILE.search(remote.uri)
            if match is None or match[1] not in days or match[2] == own:
                continue
            with local_copy(remote) as local:
                store.add_known(ledger_keys(local))
            read += 1
        self.log.info("Read the play ids of %d ledger files in the %d days touched", read, len(days))

    def _write_days(self, store: PlayStore, run_id: str) -> dict[str, Any]:
        """Write the new plays of each day to its file; what was written."""
        files = written = known = 0
        for day, rows, already in store.new_plays():
            known += already
            if not rows:
                continue
            self.write(self.writer(self.ledger_file(day, run_id)), [rows], "ledger")
            files += 1
            written += len(rows)
        return {"files": files, "plays_written": written, "already_in_ledger": known}


def _folder(path: Any) -> Any:
    """A URL without its trailing ``/`` (a folder is listed, not opened); an ``ObjectStoragePath`` as is."""
    return path.strip().rstrip("/") if isinstance(path, str) else path
