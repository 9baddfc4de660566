"""AppleMusicExportOperator: a library listing or the listening history into any store, atomically."""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_applemusic.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.export import (
    AddedWindow,
    content_type,
    encode,
    parse_instant,
    resolve_format,
)
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.paging import progress_ticker
from airflow_provider_applemusic.resources import LISTING_RESOURCES, WINDOWED_RESOURCES, listing_resource
from airflow_provider_applemusic.validation import (
    join_extend,
    join_include,
    validate_concurrency,
    validate_language,
    validate_page_size,
)
from airflow_provider_applemusic.writers import ExportWriter, writer_for

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.paging import ListingPager

#: what can be exported: every top-level listing of the resource table
EXPORTABLE = tuple(name for name, row in LISTING_RESOURCES.items() if row.parent is None)
PLAYLIST_TRACKS = "library-playlist-tracks"
PROGRESS_EVERY_SECONDS = 5.0
#: the asset-state key under which an export records its last snapshot on each outlet asset
SNAPSHOT_STATE_KEY = "applemusic.snapshot"


@dataclass
class ExportResult:
    """What one export wrote."""

    uri: str
    resource: str
    count: int
    bytes: int
    format: str
    compression: str | None
    skipped_without_date_added: int
    pages: int
    ids_sha256: str = ""

    def snapshot_state(self, recorded: Any) -> dict[str, Any]:
        """
        The asset state after this export, given what was ``recorded`` before (None: nothing):
        ``{"uri", "previous_uri", "count", "ids_sha256"}``. ``previous_uri`` moves only when
        ``uri`` changes, so an export to a fixed path never compares a file with itself.
        """
        before = recorded if isinstance(recorded, dict) else {}
        previous_uri = before.get("uri") if before.get("uri") != self.uri else before.get("previous_uri")
        return {
            "uri": self.uri,
            "previous_uri": previous_uri,
            "count": self.count,
            "ids_sha256": self.ids_sha256,
        }

    def event_extra(self) -> dict[str, Any]:
        """The asset-event extra every export emits: where the file is and what it holds."""
        return {
            "uri": self.uri,
            "resource": self.resource,
            "count": self.count,
            "bytes": self.bytes,
            "format": self.format,
            "compression": self.compression,
        }


class AppleMusicExportOperator(BaseOperator):
    """
    Export a library listing or the listening history into one file in any object store.

    Pages the resource with the provider's one paging engine (concurrent, in the API's order,
    each item once) and streams it as JSON Lines, one JSON array or Parquet into the
    destination's atomic writer: the file appears only complete, and on any failure nothing new
    appears and an existing file is untouched.

    :param resource: one of ``library-albums``, ``library-songs``, ``library-artists``,
        ``library-playlists``, ``library-music-videos``, ``recently-added``,
        ``recently-played-tracks``, ``heavy-rotation``.
    :param path: where the file goes: an ``ObjectStoragePath`` or a URL (``s3://bucket/key``,
        ``gs://bucket/key``, ``file:///dir/file``). (templated)
    :param storage_conn_id: the store's connection; None: the one named in the URL
        (``s3://conn_id@bucket/key``), else the scheme's default. (templated)
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param file_format: ``jsonl``, ``json`` or ``parquet`` (needs the ``parquet`` extra).
    :param compression: ``auto`` (none for the JSON formats, ``snappy`` for Parquet), None,
        ``gzip`` (JSON formats), ``snappy`` or ``zstd`` (Parquet).
    :param include: relationships to include, e.g. ``["catalog"]``.
    :param extend: extended attributes besides the resource's own (``dateAdded``).
    :param language: the API's ``l`` (a language tag). (templated)
    :param page_size: items per request; None: the resource's page maximum.
    :param max_concurrency: pages in flight at once, at most (1 to 64); 429s lower it a while.
    :param replace: False: fail before any Apple request if the file exists.
    :param added_after: keep items added at or after this instant (resources with
        ``dateAdded`` only; ISO 8601 or a datetime, naive means UTC). (templated)
    :param added_before: keep items added before this instant. (templated)
    :param playlist_tracks: with ``library-playlists``, each playlist carries all its tracks under
        ``relationships.tracks.data`` (an empty list for a playlist without tracks).
    :return: ``{"uri", "resource", "count", "bytes", "format", "compression",
        "skipped_without_date_added"}``; the same (but the skip count) is the extra of the
        event on every outlet asset.
    """

    template_fields: Sequence[str] = (
        "path",
        "storage_conn_id",
        "apple_music_conn_id",
        "language",
        "added_after",
        "added_before",
    )
    ui_color = "#fc3c44"

    def __init__(
        self,
        *,
        resource: str,
        path: Any,
        storage_conn_id: str | None = None,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        file_format: str = "jsonl",
        compression: str | None = "auto",
        include: Iterable[str] | str | None = None,
        extend: Iterable[str] | str | None = None,
        language: str | None = None,
        page_size: int | None = None,
        max_concurrency: int = 8,
        replace: bool = True,
        added_after: str | dt.datetime | None = None,
        added_before: str | dt.datetime | None = None,
        playlist_tracks: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # templated arguments (path, language, the window) are checked in execute, once rendered
        if resource not in EXPORTABLE:
            raise AppleMusicConfigError(f"resource must be one of {', '.join(EXPORTABLE)}, got {resource!r}")
        row = listing_resource(resource)
        self.file_format, self.compression = resolve_format(file_format, compression)
        if page_size is not None:
            validate_page_size(page_size, maximum=row.page_max)
        validate_concurrency(max_concurrency)
        for name, flag in (("replace", replace), ("playlist_tracks", playlist_tracks)):
            if not isinstance(flag, bool):
                raise AppleMusicConfigError(f"{name} must be True or False, got {flag!r}")
        if playlist_tracks and resource != "library-playlists":
            raise AppleMusicConfigError(
                f"playlist_tracks is only for resource 'library-playlists', got resource {resource!r}"
            )
        if (added_after is not None or added_before is not None) and not row.windowed:
            with_date = ", ".join(n for n in EXPORTABLE if n in WINDOWED_RESOURCES)
            raise AppleMusicConfigError(
                f"added_after/added_before need dateAdded, which the service never returns for "
                f"resource {resource!r}; resources that allow date windows: {with_date}"
            )
        self.resource = resource
        self.path = path
        self.storage_conn_id = storage_conn_id
        self.apple_music_conn_id = apple_music_conn_id
        self.include = join_include(include)
        self.extend = join_extend(extend, required=row.extended)
        self.language = language
        self.page_size = page_size
        self.max_concurrency = max_concurrency
        self.replace = replace
        self.added_after = added_after
        self.added_before = added_before
        self.playlist_tracks = playlist_tracks

    @cached_property
    def hook(self) -> AppleMusicHook:
        """The Apple Music hook, its in-flight ceiling set to ``max_concurrency``."""
        return AppleMusicHook(self.apple_music_conn_id, max_concurrency=self.max_concurrency)

    def destination(self) -> ExportWriter:
        """The atomic writer for the rendered ``path``."""
        return writer_for(self.path, self.storage_conn_id, content_type(self.file_format, self.compression))

    def _window(self) -> AddedWindow:
        return AddedWindow(
            parse_instant(self.added_after, param="added_after"),
            parse_instant(self.added_before, param="added_before"),
        )

    def execute(self, context: Context) -> dict[str, Any]:
        result = self.export()
        self.record_snapshot(context, result)
        self.emit_asset_events(context, result)
        return {
            **result.event_extra(),
            "skipped_without_date_added": result.skipped_without_date_added,
        }

    def export(self) -> ExportResult:
        """Check the rendered arguments, then page, encode and write; see the class."""
        window = self._window()
        validate_language(self.language)
        writer = self.destination()
        self.hook.validate()
        if not self.replace and writer.exists():
            raise AppleMusicConfigError(f"{writer.uri} already exists and replace=False: nothing was fetched")
        pager = self.hook.library_pager(
            self.resource,
            page_size=self.page_size,
            include=self.include,
            extend=self.extend,
            language=self.language,
            pages_in_flight=self.max_concurrency,
        )
        written = [0]
        ids = hashlib.sha256()
        started = time.monotonic()
        # the first page is read before the store is touched: what fails there (a refused token,
        # a listing the account does not serve) leaves no trace in it, not even a temporary file
        pages = iter(pager)
        first = next(pages)

        def batches() -> Iterator[list[dict[str, Any]]]:
            due = progress_ticker(PROGRESS_EVERY_SECONDS)
            for page in itertools.chain([first], pages):
                kept = [item for item in page if window.keeps(item)]
                if self.playlist_tracks:
                    for playlist in kept:
                        self._attach_tracks(playlist)
                written[0] += len(kept)
                for item in kept:
                    ids.update(f"{item.get('id')}\n".encode())
                if due():
                    self._log_progress(pager, written[0], started)
                yield kept

        size = writer.write(
            encode(batches(), self.resource, self.file_format, self.compression), replace=self.replace
        )
        self._log_progress(pager, written[0], started)
        result = ExportResult(
            uri=writer.uri,
            resource=self.resource,
            count=written[0],
            bytes=size,
            format=self.file_format,
            compression=self.compression,
            skipped_without_date_added=window.skipped_without_date_added,
            pages=pager.stats.pages,
            ids_sha256=ids.hexdigest(),
        )
        self.log.info(
            "Exported %d %s (%d pages, %d requests, %d without dateAdded skipped, %d bytes, %s%s) "
            "to %s in %.1f s",
            result.count,
            result.resource,
            result.pages,
            pager.stats.requests,
            result.skipped_without_date_added,
            result.bytes,
            result.format,
            f" {result.compression}" if result.compression else "",
            result.uri,
            time.monotonic() - started,
        )
        return result

    def _attach_tracks(self, playlist: dict[str, Any]) -> None:
        tracks = list(self.hook.iter_library(PLAYLIST_TRACKS, parent_id=str(playlist["id"])))
        playlist.setdefault("relationships", {})["tracks"] = {"data": tracks}

    def record_snapshot(self, context: Context, result: ExportResult) -> None:
        """
        Keep the written file in the state of every outlet asset (key ``applemusic.snapshot``),
        once it is committed; ``LibraryChangesOperator(snapshot_asset=...)`` reads it.
        """
        from airflow.sdk import Asset

        stores = context.get("asset_state_store")
        if stores is None:
            return
        for outlet in self.outlets or ():
            if isinstance(outlet, Asset):
                state = stores[outlet]
                recorded = result.snapshot_state(state.get(SNAPSHOT_STATE_KEY))
                state.set(SNAPSHOT_STATE_KEY, recorded)
                self.log.info("Recorded the snapshot in the state of %s: %s", outlet.name, recorded)

    def emit_asset_events(self, context: Context, result: ExportResult) -> None:
        """Put the shared extra on the event of every outlet asset."""
        events = context.get("outlet_events")
        if events is None:
            return
        for outlet in self.outlets or ():
            events[outlet].extra = result.event_extra()

    def _log_progress(self, pager: ListingPager, written: int, started: float) -> None:
        elapsed = max(1e-6, time.monotonic() - started)
        stats = self.hook.concurrency.stats
        self.log.info(
            "Progress: %d %s fetched of %s (meta.total), %d written, %.1f pages/s, "
            "%d retries, %d throttled, concurrency %d/%d, pace %s",
            pager.stats.items,
            self.resource,
            pager.stats.total if pager.stats.total is not None else "?",
            written,
            pager.stats.pages / elapsed,
            stats.retries,
            stats.throttled,
            self.hook.concurrency.current_limit,
            self.max_concurrency,
            f"{rate:.1f}/s" if (rate := self.hook.concurrency.current_rate) else "unlimited",
        )
