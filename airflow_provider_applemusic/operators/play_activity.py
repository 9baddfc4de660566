"""PlayActivityImportOperator: the lifetime listening history, from Apple's privacy export, to the ledger."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.listens import JOIN_END_REASONS, PlayRule
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import resolve_format
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.files.play_activity import PLAY_ACTIVITY, describe, export_files
from airflow_provider_applemusic.files.play_import import PlayImport, fetch_source
from airflow_provider_applemusic.files.play_store import PlayStore
from airflow_provider_applemusic.operators.base import (
    DEFAULT_CONN_ID,
    AppleMusicBaseOperator,
    FileOutputMixin,
)
from airflow_provider_applemusic.operators.listening_history import EXTENSIONS, LEDGER_FORMATS, file_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.files.location import Location


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
        """
        Where the plays of ``day`` go: ``<path>/date=YYYY-MM-DD/<run id>.<ext>``.

        :param day: the day the plays began, ``YYYY-MM-DD`` (UTC).
        :param run_id: the run's id (made safe for a file name).
        """
        name = f"date={day}/{file_name(run_id)}.{EXTENSIONS[self.file_format]}"
        if isinstance(self.path, str):
            return location(f"{self.path.rstrip('/')}/{name}", self.storage_conn_id)
        return location(self.path / name, self.storage_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        """
        Read the export, write its new plays to the ledger, one file per day; the counts.

        :param context: the task's context.
        """
        now = dt.datetime.now(dt.timezone.utc)
        run_id = str(context.get("run_id") or f"manual__{now.isoformat(timespec='seconds')}")
        self.ledger_file("2000-01-01", run_id)  # checks path before anything is read
        base = location(_folder(self.path), self.storage_conn_id)
        source = location(_folder(self.source), self.source_conn_id or self.storage_conn_id, param="source")
        with tempfile.TemporaryDirectory(prefix="applemusic-import-") as tmp:
            store = PlayStore(tmp)
            work = PlayImport(store, self.rule, self.log)
            try:
                with export_files(fetch_source(source, tmp)) as found:
                    self.log.info("Export files found in %s: %s", source.uri, describe(found))
                    if not any(f.kind == "play_activity" for f in found):
                        raise AppleMusicConfigError(
                            f"source: no {PLAY_ACTIVITY!r} in {source.uri}: not a privacy export with "
                            "the Apple Music activity (request 'Apple Media Services information' at "
                            "privacy.apple.com)"
                        )
                    work.read(found)
                work.find_plays()
                work.record_known(base, file_name(run_id))
                result = self._write_days(store, run_id)
            finally:
                store.close()
        result.update(path=base.uri, **work.summary(), format=self.file_format, rule=self.rule.as_dict())
        self.log.info(
            "%d rows read; %d plays found (%d of several segments, %d with a catalog id); %d already "
            "in the ledger; %d written in %d files; rows skipped by reason: %s",
            result["rows_read"], result["plays_found"], work.counts["joined"], result["with_catalog_id"],
            result["already_in_ledger"], result["plays_written"], result["files"], result["skipped"],
        )  # fmt: skip
        self.emit_asset_events(context, result)
        return result

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
