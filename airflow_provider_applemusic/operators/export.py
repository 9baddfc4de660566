"""AppleMusicExportOperator: a library listing or the listening history into any store, atomically."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.enrichment import Enricher
from airflow_provider_applemusic.api.listings import ListingQuery
from airflow_provider_applemusic.api.paging import progress_ticker
from airflow_provider_applemusic.api.replay import REPLAY, refuse_arguments, replay_rows
from airflow_provider_applemusic.api.resources import (
    LISTING_RESOURCES,
    WINDOWED_RESOURCES,
    listing_resource,
)
from airflow_provider_applemusic.api.validation import (
    validate_concurrency,
)
from airflow_provider_applemusic.api.windows import AddedWindow
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import resolve_format
from airflow_provider_applemusic.operators.base import (
    DEFAULT_CONN_ID,
    AppleMusicBaseOperator,
    FileOutputMixin,
)
from airflow_provider_applemusic.operators.resume import (
    DEFAULT_RESUME_WITHIN,
    ResumableWrite,
    positioned,
    resume_window,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.api.paging import ListingPager
    from airflow_provider_applemusic.files.location import Location

#: what can be exported: every top-level listing of the resource table
EXPORTABLE = tuple(name for name, row in LISTING_RESOURCES.items() if row.parent is None and row.paged)
#: what can be exported besides: the rows of the resource table one request answers whole (Replay)
SUMMARIES = tuple(name for name, row in LISTING_RESOURCES.items() if not row.paged)
PLAYLIST_TRACKS = "library-playlist-tracks"
PROGRESS_EVERY_SECONDS = 5.0


@dataclass
class ExportResult:
    """
    What one export wrote.

    :param uri: where the file is.
    :param resource: the exported resource.
    :param count: items written.
    :param bytes: the file's size.
    :param format: the file format.
    :param compression: the compression, or None.
    :param skipped_without_date_added: items left out of a date window for lack of ``dateAdded``.
    :param pages: pages fetched.
    :param ids_sha256: a digest of the ids written, in order.
    :param enrichment: what enrichment found and its requests (None: no enrichment).
    """

    uri: str
    resource: str
    count: int
    bytes: int
    format: str
    compression: str | None
    skipped_without_date_added: int
    pages: int
    ids_sha256: str = ""
    enrichment: dict[str, int] | None = None

    def snapshot_state(self, recorded: Any) -> dict[str, Any]:
        """
        The asset state after this export, given what was ``recorded`` before (None: nothing):
        ``{"uri", "previous_uri", "count", "ids_sha256"}``. ``previous_uri`` moves only when
        ``uri`` changes, so an export to a fixed path never compares a file with itself.

        :param recorded: the asset state recorded before, or None.
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


class _Tally:
    """What an export has kept so far (how many, a hash of their ids), beside its pager."""

    def __init__(self, pager: ListingPager) -> None:
        self.pager = pager
        self.count = 0
        self.ids = hashlib.sha256()
        self.started = time.monotonic()

    def add(self, items: list[dict[str, Any]]) -> None:
        self.add_ids([item.get("id") for item in items])

    def add_ids(self, ids: list[Any]) -> None:
        self.count += len(ids)
        for item_id in ids:
            self.ids.update(f"{item_id}\n".encode())

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _check_listing(resource: Any, *, windowed: bool, playlist_tracks: Any) -> None:
    """Refuse a resource that cannot be exported, or options it does not allow."""
    if not isinstance(playlist_tracks, bool):
        raise AppleMusicConfigError(f"playlist_tracks must be True or False, got {playlist_tracks!r}")
    if playlist_tracks and resource != "library-playlists":
        raise AppleMusicConfigError(
            f"playlist_tracks is only for resource 'library-playlists', got resource {resource!r}"
        )
    if windowed and not listing_resource(resource).windowed:
        with_date = ", ".join(n for n in EXPORTABLE if n in WINDOWED_RESOURCES)
        raise AppleMusicConfigError(
            f"added_after/added_before need dateAdded, which the service never returns for "
            f"resource {resource!r}; resources that allow date windows: {with_date}"
        )


class ListingExportBaseOperator(FileOutputMixin, AppleMusicBaseOperator):
    """
    The export engine under :class:`AppleMusicExportOperator` and ``LibraryAlbumsToS3Operator``
    (not for DAGs: a subclass says where the file goes, through ``destination``).

    Checks its arguments once, at construction (templated ones once rendered, in
    :meth:`export`), pages the resource concurrently, keeps the items of the date window, and
    streams them in the chosen format into the destination's atomic writer. Parameters as
    :class:`AppleMusicExportOperator`.
    :param resource: a listing of the resource table.
    :param apple_music_conn_id: the ``apple_music`` connection.
    :param file_format: ``jsonl``, ``json`` or ``parquet``.
    :param compression: ``auto``, None, ``gzip``, ``snappy`` or ``zstd``, as the format allows.
    :param include: relationships to include.
    :param extend: extended attributes besides the resource's own.
    :param language: the API's ``l``.
    :param page_size: items per request; None: the resource's page maximum.
    :param max_concurrency: pages in flight at once, at most.
    :param replace: False: fail before any Apple request if the file exists.
    :param added_after: keep items added at or after this instant.
    :param added_before: keep items added before this instant.
    :param playlist_tracks: with ``library-playlists``, each playlist carries all its tracks.
    :param enrich: ``catalog`` and/or ``ratings`` (see :class:`AppleMusicExportOperator`).
    :param resume_within: how old a failed try's checkpoint may be to go on from it.
    """

    def __init__(
        self,
        *,
        resource: str,
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
        enrich: Iterable[str] | str | None = None,
        resume_within: Any = DEFAULT_RESUME_WITHIN,
        **kwargs: Any,
    ) -> None:
        super().__init__(apple_music_conn_id=apple_music_conn_id, **kwargs)
        # templated arguments (the destination, language, the window) are checked in export
        if resource not in (*EXPORTABLE, *SUMMARIES):
            names = ", ".join((*EXPORTABLE, *SUMMARIES))
            raise AppleMusicConfigError(f"resource must be one of {names}, got {resource!r}")
        if resource == REPLAY:
            refuse_arguments(
                page_size=page_size,
                include=include,
                extend=extend,
                added_after=added_after,
                added_before=added_before,
                playlist_tracks=playlist_tracks,
                enrich=enrich,
            )
        self.file_format, self.compression = self.check_format(file_format, compression)
        # what every page asks for but the templated language, checked once, here (Replay: no pages)
        self._query = (
            None
            if resource == REPLAY
            else ListingQuery.checked(
                resource, page_size=page_size, include=include, extend=extend, enrich=enrich
            )
        )
        self.page_size = page_size
        self.max_concurrency = validate_concurrency(max_concurrency)
        if not isinstance(replace, bool):
            raise AppleMusicConfigError(f"replace must be True or False, got {replace!r}")
        windowed = added_after is not None or added_before is not None
        _check_listing(resource, windowed=windowed, playlist_tracks=playlist_tracks)
        self.resource = resource
        self.include = self._query.params.get("include") if self._query is not None else None
        self.extend = self._query.params.get("extend", "") if self._query is not None else ""
        self.enrich = self._query.enrich if self._query is not None else ()
        self.language = language
        self.replace = replace
        self.added_after = added_after
        self.added_before = added_before
        self.playlist_tracks = playlist_tracks
        if not (isinstance(resume_within, str) and "{{" in resume_within):
            resume_window(resume_within)  # a template is checked once rendered
        self.resume_within = resume_within

    def check_format(self, file_format: Any, compression: Any) -> tuple[str, str | None]:
        """
        ``file_format`` and ``compression``, checked together (``auto`` resolved).

        :param file_format: the ``file_format`` argument.
        :param compression: the ``compression`` argument.
        """
        return resolve_format(file_format, compression)

    @property
    def hook_params(self) -> dict[str, Any]:
        """The hook's in-flight ceiling is ``max_concurrency``."""
        return {"max_concurrency": self.max_concurrency}

    def execute(self, context: Context) -> dict[str, Any]:
        """
        Export the listing into the file, atomically; the XCom value (:meth:`xcom_value`).

        :param context: the task's context.
        """
        result = self.export(context)
        self.record_snapshot(context, result.snapshot_state)
        self.emit_asset_events(context, result.event_extra())
        return self.xcom_value(result)

    def xcom_value(self, result: ExportResult) -> dict[str, Any]:
        """
        What ``execute`` returns: the event extra, the count of items without ``dateAdded`` and,
        with ``enrich``, what enrichment found.

        :param result: the export's result.
        """
        value = {**result.event_extra(), "skipped_without_date_added": result.skipped_without_date_added}
        if result.enrichment is not None:
            value["enrichment"] = result.enrichment
        return value

    def export(self, context: Context | None = None) -> ExportResult:
        """
        Check the rendered arguments, then page, enrich, encode and write; see the class. With a
        task state store in ``context``, a failed try's pages are kept for the next one
        (:mod:`~airflow_provider_applemusic.operators.resume`).

        :param context: the task's context (None: nothing is kept for a next try).
        """
        window = AddedWindow.from_arguments(self.added_after, self.added_before)
        query = self._query.with_language(self.language) if self._query is not None else None
        resume_within = resume_window(self.resume_within)
        target = self.destination()
        self.hook.validate()
        self.refuse_existing(target, nothing_was="fetched")
        if query is None:
            return self._export_replay(target)
        run = ResumableWrite(
            context,
            target,
            self.resume_arguments(target),
            resume_within=resume_within,
            log=self.log,
            retries=int(self.retries or 0),
            resource=self.resource,
            file_format=self.file_format,
            compression=self.compression,
            enrich=self.enrich,
        )
        # the store's client is set up before paging starts, so that pages are not kept waiting
        run.prepare()
        tally = _Tally(self.hook.query_pager(query, pages_in_flight=self.max_concurrency))
        tally.add_ids(run.resume_pager(tally.pager))
        window.skipped_without_date_added = run.skipped
        positions: deque[dict[str, Any]] = deque()
        enricher = Enricher(self.enrich) if self.enrich else None
        pages = self._enriched(positioned(tally.pager, tally.pager, positions), enricher, window, query)
        batches = self._batches(pages, window, tally)
        size = run.write(batches, positions, lambda: window.skipped_without_date_added, replace=self.replace)
        self._log_progress(tally)
        result = self._result(target, size, window, tally)
        if enricher is not None:
            result.enrichment = enricher.stats.as_dict()
            self._log_enriched(enricher)
        self._log_exported(result, tally)
        return result

    def resume_arguments(self, target: Location) -> dict[str, Any]:
        """
        The rendered arguments that shape the file: a try resumes an earlier one only if all are
        the same.

        :param target: where the file goes.
        """
        return {
            "target": target.uri,
            "connection": self.apple_music_conn_id,
            "resource": self.resource,
            "file_format": self.file_format,
            "compression": self.compression,
            "include": self.include,
            "extend": self.extend,
            "language": self.language,
            "page_size": self.page_size,
            "added_after": str(self.added_after),
            "added_before": str(self.added_before),
            "playlist_tracks": self.playlist_tracks,
            "enrich": list(self.enrich),
        }

    def _enriched(
        self,
        pages: Iterable[list[dict[str, Any]]],
        enricher: Enricher | None,
        window: AddedWindow,
        query: ListingQuery,
    ) -> Iterator[list[dict[str, Any]]]:
        """
        The enrichment stage between paging and writing: the items of ``pages`` the window
        keeps (only those are looked up), enriched, in order.
        """
        if enricher is None:
            return iter(pages)
        kept = ([item for item in page if window.keeps(item)] for page in pages)
        return iter(self.hook.enrich_pages(kept, enricher, language=query.params.get("l")))

    def _log_enriched(self, enricher: Enricher) -> None:
        stats = enricher.stats
        self.log.info(
            "Enriched with %s: catalog %d ok, %d without a catalog id, %d withdrawn (%d requests); "
            "ratings %d loved, %d disliked, %d unrated (%d requests)",
            " and ".join(self.enrich),
            stats.catalog_ok,
            stats.catalog_none,
            stats.catalog_withdrawn,
            stats.catalog_requests,
            stats.loved,
            stats.disliked,
            stats.unrated,
            stats.rating_requests,
        )

    def _export_replay(self, target: Location) -> ExportResult:
        """The latest Replay year, one row per view, rank and item; no year yet: an empty file."""
        summary = self.hook.get_replay(language=self.language)
        rows = replay_rows(summary)
        size = self.write(self.writer(target), [rows], REPLAY)
        ids = hashlib.sha256("".join(f"{row['view']}:{row['id']}\n" for row in rows).encode())
        if summary is None:
            self.log.info("No Replay year is available yet: an empty export")
        else:
            self.log.info("Replay %s: %d rows", (summary.get("attributes") or {}).get("year"), len(rows))
        result = ExportResult(
            uri=target.uri,
            resource=REPLAY,
            count=len(rows),
            bytes=size,
            format=self.file_format,
            compression=self.compression,
            skipped_without_date_added=0,
            pages=1,
            ids_sha256=ids.hexdigest(),
        )
        self.log.info("Exported %d replay rows (%d bytes) to %s", result.count, result.bytes, result.uri)
        return result

    def _batches(
        self, pages: Iterable[list[dict[str, Any]]], window: AddedWindow, tally: _Tally
    ) -> Iterator[list[dict[str, Any]]]:
        """The items of each page that the window keeps (playlists with their tracks), counted."""
        due = progress_ticker(PROGRESS_EVERY_SECONDS)
        for page in pages:
            kept = [item for item in page if window.keeps(item)]
            if self.playlist_tracks:
                for playlist in kept:
                    self._attach_tracks(playlist)
            tally.add(kept)
            if due():
                self._log_progress(tally)
            yield kept

    def _attach_tracks(self, playlist: dict[str, Any]) -> None:
        tracks = list(self.hook.iter_library(PLAYLIST_TRACKS, parent_id=str(playlist["id"])))
        playlist.setdefault("relationships", {})["tracks"] = {"data": tracks}

    def _result(self, target: Location, size: int, window: AddedWindow, tally: _Tally) -> ExportResult:
        return ExportResult(
            uri=target.uri,
            resource=self.resource,
            count=tally.count,
            bytes=size,
            format=self.file_format,
            compression=self.compression,
            skipped_without_date_added=window.skipped_without_date_added,
            pages=tally.pager.stats.pages,
            ids_sha256=tally.ids.hexdigest(),
        )

    def _log_exported(self, result: ExportResult, tally: _Tally) -> None:
        self.log.info(
            "Exported %d %s (%d pages, %d requests, %d without dateAdded skipped, %d bytes, %s%s) "
            "to %s in %.1f s",
            result.count,
            result.resource,
            result.pages,
            tally.pager.stats.requests,
            result.skipped_without_date_added,
            result.bytes,
            result.format,
            f" {result.compression}" if result.compression else "",
            result.uri,
            tally.elapsed(),
        )

    def _log_progress(self, tally: _Tally) -> None:
        stats, concurrency = tally.pager.stats, self.hook.concurrency
        self.log.info(
            "Progress: %d %s fetched of %s (meta.total), %d written, %.1f pages/s, "
            "%d retries, %d throttled, concurrency %d/%d, pace %s",
            stats.items,
            self.resource,
            stats.total if stats.total is not None else "?",
            tally.count,
            stats.pages / max(1e-6, tally.elapsed()),
            concurrency.stats.retries,
            concurrency.stats.throttled,
            concurrency.current_limit,
            self.max_concurrency,
            f"{rate:.1f}/s" if (rate := concurrency.current_rate) else "unlimited",
        )


class AppleMusicExportOperator(ListingExportBaseOperator):
    """
    Export a library listing or the listening history into one file in any object store.

    Pages the resource with the provider's one paging engine (concurrent, in the API's order,
    each item once) and streams it as JSON Lines, one JSON array or Parquet into the
    destination's atomic writer: the file appears only complete, and on any failure nothing new
    appears and an existing file is untouched.

    :param resource: one of ``library-albums``, ``library-songs``, ``library-artists``,
        ``library-playlists``, ``library-music-videos``, ``recently-added``,
        ``recently-played-tracks``, ``heavy-rotation``, ``replay`` (the latest Replay year: one
        row per view, rank and item, see :func:`~airflow_provider_applemusic.api.replay.replay_rows`;
        no year yet: an empty file; ``page_size``, ``include``, ``extend``, date windows and
        ``playlist_tracks`` do not apply).
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
    :param enrich: ``["catalog"]``, ``["ratings"]`` or both. ``catalog``: each item gains
        ``catalog`` (its catalog resource's ``attributes``, or null) and ``catalog_status``
        (``ok``, ``none``: no catalog id, ``withdrawn``: the catalog no longer resolves it),
        fetched 100 ids a request in the user's storefront (library albums and playlists are
        listed with ``include=catalog``, where their catalog ids are); Parquet gains typed columns
        (``isrc``, ``upc``, ``record_label``, ``audio_traits``, ``composer_name``, ``url``, ...).
        ``ratings``: each item gains ``rating`` (1 love, -1 dislike, null), 200 ids a request.
        Not for ``library-artists``. The look-ups share the export's concurrency, retries and
        request budget and run while later pages are fetched; the order stays the service's.
    :param resume_within: a try that follows a failed one goes on from where it stopped (the
        pages fetched are not fetched again) when its checkpoint is younger than this and the
        arguments are the same, else it starts over (see ``docs/resuming.md``): a ``timedelta``
        or a number of seconds; 0: always start over. (templated)
    :return: ``{"uri", "resource", "count", "bytes", "format", "compression",
        "skipped_without_date_added"}`` (and, with ``enrich``, ``"enrichment"``: the counts of
        ``catalog_ok``, ``catalog_none``, ``catalog_withdrawn``, ``loved``, ``disliked``,
        ``unrated`` and the requests); the same (but the skip count and the enrichment) is the
        extra of the event on every outlet asset.
    """

    template_fields: Sequence[str] = (
        "path",
        "storage_conn_id",
        "apple_music_conn_id",
        "language",
        "added_after",
        "added_before",
        "resume_within",
    )

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
        enrich: Iterable[str] | str | None = None,
        resume_within: Any = DEFAULT_RESUME_WITHIN,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            resource=resource,
            apple_music_conn_id=apple_music_conn_id,
            file_format=file_format,
            compression=compression,
            include=include,
            extend=extend,
            language=language,
            page_size=page_size,
            max_concurrency=max_concurrency,
            replace=replace,
            added_after=added_after,
            added_before=added_before,
            playlist_tracks=playlist_tracks,
            enrich=enrich,
            resume_within=resume_within,
            **kwargs,
        )
        self.path = path
        self.storage_conn_id = storage_conn_id
