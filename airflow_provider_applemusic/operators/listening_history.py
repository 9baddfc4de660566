"""ListeningHistoryOperator: a ledger of plays kept by polling the recent-plays list."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

from airflow_provider_applemusic.api.plays import HISTORY_LIMIT, poll
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import resolve_format
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.operators.base import (
    DEFAULT_CONN_ID,
    AppleMusicBaseOperator,
    FileOutputMixin,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.files.location import Location

#: the asset-state key under which the ledger keeps the list it read last
PLAYED_STATE_KEY = "applemusic.played"
#: the listing polled
RECENTLY_PLAYED = "recently-played-tracks"
LEDGER_FORMATS = ("jsonl", "parquet")
EXTENSIONS = {"jsonl": "jsonl", "parquet": "parquet"}


def file_name(run_id: str) -> str:
    """
    A run id as a file name: characters other than letters, digits, ``.``, ``_``, ``-`` become ``_``.

    :param run_id: the DAG run's id.
    """
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


class ListeningHistoryOperator(FileOutputMixin, AppleMusicBaseOperator):
    """
    Append the plays since the last run to a ledger: one file per run, in any store.

    The API keeps no history with times, only the newest 50 plays, de-duplicated, newest
    first. Each run reads that list (``types=songs,library-songs``, pages of 30), works out
    which entries are new plays since the list the previous run read (kept in the ledger
    asset's state store, key ``applemusic.played``; the rule is in
    :mod:`airflow_provider_applemusic.api.plays`: replays count, retries and briefly older
    orders record nothing twice, a lost overlap writes a ``gap`` row) and writes them,
    atomically, to ``<path>/date=YYYY-MM-DD/<run id>.<ext>`` (the day the run was due, UTC; the
    run id with characters other than letters, digits, ``._-`` as ``_``). A run that finds
    nothing new writes no file. The state moves only once the file is committed.

    Each row: ``kind`` (``play`` or ``gap``), ``play_id`` (stable: the same play read again has
    the same id), ``id``, ``type`` (``songs``, ``library-songs``, ``music-videos``),
    ``catalog_id``, ``name``, ``artist_name``, ``album_name``, ``duration_ms``,
    ``observed_after`` and ``observed_before`` (the poll times between which it was played;
    ``observed_after`` is null on the first run, which records every entry there),
    ``estimated_played_at`` (an estimate: spread back from ``observed_before`` by durations),
    ``played_at`` (null: exact times come only from the privacy export,
    ``PlayActivityImportOperator``), ``source`` (``poll``). Parquet has them as typed columns
    (times as UTC timestamps) and the row as ``resource_json``.

    Runs of one ledger must not overlap: ``max_active_tis_per_dag`` defaults to 1.

    :param path: the ledger's base: a URL (``s3://bucket/plays``, ``file:///data/plays``, any
        store Airflow reaches) or an ``ObjectStoragePath``. (templated)
    :param file_format: ``jsonl`` or ``parquet`` (snappy).
    :param ledger: the ledger's asset, whose state keeps the list read last; added to the
        outlets. None: the first ``Asset`` among ``outlets``.
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param storage_conn_id: the store's connection (None: the scheme's default). (templated)
    :return: ``{"uri", "count", "plays", "gap", "older_order", "format"}``; the same is the
        extra of the ledger asset's event (``uri`` None when nothing was new).
    """

    template_fields: Sequence[str] = ("path", "apple_music_conn_id", "storage_conn_id")

    def __init__(
        self,
        *,
        path: Any,
        file_format: str = "jsonl",
        ledger: Asset | None = None,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        storage_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if file_format not in LEDGER_FORMATS:
            raise AppleMusicConfigError(
                f"file_format must be one of {', '.join(LEDGER_FORMATS)}, got {file_format!r}"
            )
        if ledger is not None and not isinstance(ledger, Asset):
            raise AppleMusicConfigError(f"ledger must be an Asset, got {ledger!r}")
        outlets = list(kwargs.pop("outlets", None) or [])
        if ledger is None:
            ledger = next((outlet for outlet in outlets if isinstance(outlet, Asset)), None)
            if ledger is None:
                raise AppleMusicConfigError(
                    "ledger must be given (or an Asset among outlets): its state store keeps the "
                    "list of plays the previous run read"
                )
        elif ledger not in outlets:
            outlets.append(ledger)
        from airflow.sdk import ObjectStoragePath

        if not isinstance(path, (str, ObjectStoragePath)):
            raise AppleMusicConfigError(
                f"path must be a URL such as 's3://bucket/plays' or an ObjectStoragePath, got {path!r}"
            )
        kwargs.setdefault("max_active_tis_per_dag", 1)
        super().__init__(apple_music_conn_id=apple_music_conn_id, outlets=outlets, **kwargs)
        self.file_format, self.compression = resolve_format(file_format, "auto")
        self.path = path
        self.ledger = ledger
        self.storage_conn_id = storage_conn_id
        self.replace = True

    def ledger_file(self, day: dt.date, run_id: str) -> Location:
        """
        Where the run's file goes: ``<path>/date=YYYY-MM-DD/<run id>.<ext>``.

        :param day: the UTC day of the run.
        :param run_id: the DAG run's id.
        """
        name = f"date={day.isoformat()}/{file_name(run_id)}.{EXTENSIONS[self.file_format]}"
        if isinstance(self.path, str):
            return location(f"{self.path.rstrip('/')}/{name}", self.storage_conn_id)
        return location(self.path / name, self.storage_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        """
        Read the recent plays, append the new ones to the ledger and move its state; the count and the file.

        :param context: the task's context.
        """
        now = dt.datetime.now(dt.timezone.utc)
        run_id = str(context.get("run_id") or f"manual__{now.isoformat(timespec='seconds')}")
        dag_run = context.get("dag_run")
        due = getattr(dag_run, "run_after", None) or now
        target = self.ledger_file(due.astimezone(dt.timezone.utc).date(), run_id)  # checks path
        store = context["asset_state_store"][self.ledger]
        self.hook.validate()
        entries = list(self.hook.iter_library(RECENTLY_PLAYED, page_size=30))[:HISTORY_LIMIT]
        observed_at = dt.datetime.now(dt.timezone.utc)
        found = poll(store.get(PLAYED_STATE_KEY), entries, observed_at, run_id)
        uri = None
        if found.rows:
            self.write(self.writer(target), [found.rows], "ledger")
            uri = target.uri
        store.set(PLAYED_STATE_KEY, found.state)  # only once the file is committed
        result = {
            "uri": uri,
            "count": len(found.rows),
            "plays": found.new,
            "gap": found.gap,
            "older_order": found.older,
            "format": self.file_format,
        }
        self.log.info(
            "%d entries read, %d new plays%s%s%s",
            len(entries),
            found.new,
            " (first run: every entry)" if found.first else "",
            " after a gap (the overlap with the previous list was lost)" if found.gap else "",
            " (an older order: held back)" if found.older else "",
        )
        if uri:
            self.log.info("Written to %s", uri)
        self.emit_asset_events(context, result)
        return result
