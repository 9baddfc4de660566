"""LibraryAlbumsToS3Operator: every album of the user's library into one S3 object, atomically."""

from __future__ import annotations

import io
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_applemusic.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.export import (
    COMPRESSIONS,
    CONTENT_TYPES,
    FILE_FORMATS,
    AddedWindow,
    IteratorReader,
    encode_albums,
    gzip_stream,
    parse_instant,
)
from airflow_provider_applemusic.hooks.apple_music import ALBUMS_EXTEND, LIBRARY_ALBUMS, AppleMusicHook
from airflow_provider_applemusic.paging import ListingPager, progress_ticker
from airflow_provider_applemusic.validation import (
    join_extend,
    join_include,
    validate_concurrency,
    validate_language,
    validate_page_size,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Sequence

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk import Context

#: multipart part size, and the size under which one PUT is made instead
PART_SIZE = 5 * 1024 * 1024
#: parts held in memory at once by the managed transfer
PARTS_IN_MEMORY = 4
PROGRESS_EVERY_SECONDS = 5.0


class LibraryAlbumsToS3Operator(BaseOperator):
    """
    Export every album of the user's Apple Music library into one S3 object.

    Pages ``GET /v1/me/library/albums`` concurrently (in the API's order, each album once),
    streams the albums as JSON Lines or one JSON array, optionally gzipped, into S3 with a
    multipart upload (a single PUT for small outputs). The object appears only when complete:
    on failure the upload is aborted and an object already at the key is left untouched.

    :param s3_key: the key, or a full ``s3://bucket/key`` URL when ``s3_bucket`` is None; used
        exactly as given. (templated)
    :param s3_bucket: the bucket. (templated)
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param aws_conn_id: the AWS connection for the amazon provider's ``S3Hook``. (templated)
    :param replace: False: fail before any Apple request if the key exists.
    :param file_format: ``jsonl`` (one LibraryAlbum per line) or ``json`` (one array).
    :param compression: None or ``gzip`` (reproducible: header mtime 0).
    :param page_size: albums per request, 1 to 100.
    :param max_concurrency: pages in flight at once, at most (1 to 64); 429s lower it for a while.
    :param include: relationships to include, e.g. ``["catalog"]``.
    :param extend: extended attributes to ask for besides ``dateAdded`` (always asked for:
        every exported album carries it when the service knows it).
    :param language: the API's ``l`` (a language tag). (templated)
    :param added_after: keep albums added at or after this instant (ISO 8601 or datetime; naive
        means UTC). (templated)
    :param added_before: keep albums added before this instant. (templated)
    :param encrypt: server-side encryption (SSE-S3) of the object.
    :return: ``{"s3_uri", "album_count", "pages", "skipped_without_date_added", "bytes"}``.
    """

    template_fields: Sequence[str] = (
        "s3_key",
        "s3_bucket",
        "added_after",
        "added_before",
        "language",
        "apple_music_conn_id",
        "aws_conn_id",
    )
    ui_color = "#fc3c44"

    def __init__(
        self,
        *,
        s3_key: str,
        s3_bucket: str | None = None,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        aws_conn_id: str | None = "aws_default",
        replace: bool = True,
        file_format: str = "jsonl",
        compression: str | None = None,
        page_size: int = 100,
        max_concurrency: int = 8,
        include: Iterable[str] | None = None,
        extend: Iterable[str] | None = None,
        language: str | None = None,
        added_after: str | dt.datetime | None = None,
        added_before: str | dt.datetime | None = None,
        encrypt: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # templated arguments are checked in execute, once rendered (Jinja blocks, XComArgs)
        if file_format not in FILE_FORMATS:
            raise AppleMusicConfigError(
                f"file_format must be one of {', '.join(FILE_FORMATS)}, got {file_format!r}"
            )
        if compression not in COMPRESSIONS:
            raise AppleMusicConfigError(f"compression must be None or 'gzip', got {compression!r}")
        validate_page_size(page_size)
        validate_concurrency(max_concurrency)
        if not isinstance(replace, bool):
            raise AppleMusicConfigError(f"replace must be True or False, got {replace!r}")
        if not isinstance(encrypt, bool):
            raise AppleMusicConfigError(f"encrypt must be True or False, got {encrypt!r}")
        self.include = join_include(include)
        self.extend = join_extend(extend, required=ALBUMS_EXTEND)
        self.s3_key = s3_key
        self.s3_bucket = s3_bucket
        self.apple_music_conn_id = apple_music_conn_id
        self.aws_conn_id = aws_conn_id
        self.replace = replace
        self.file_format = file_format
        self.compression = compression
        self.page_size = page_size
        self.max_concurrency = max_concurrency
        self.language = language
        self.added_after = added_after
        self.added_before = added_before
        self.encrypt = encrypt

    def _window(self) -> AddedWindow:
        return AddedWindow(
            parse_instant(self.added_after, param="added_after"),
            parse_instant(self.added_before, param="added_before"),
        )

    @cached_property
    def hook(self) -> AppleMusicHook:
        """The Apple Music hook, its in-flight ceiling set to ``max_concurrency``."""
        return AppleMusicHook(self.apple_music_conn_id, max_concurrency=self.max_concurrency)

    @cached_property
    def s3_hook(self) -> S3Hook:
        """The amazon provider's ``S3Hook``, set up for streaming multipart uploads."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        content_type = "application/gzip" if self.compression else CONTENT_TYPES[self.file_format]
        hook = S3Hook(
            aws_conn_id=self.aws_conn_id,
            extra_args={"ContentType": content_type},
            transfer_config_args={
                "multipart_threshold": PART_SIZE,
                "multipart_chunksize": PART_SIZE,
                "max_concurrency": PARTS_IN_MEMORY,
                "use_threads": True,
            },
        )
        # boto3's TransferConfig does not take it as an argument; s3transfer reads the attribute
        hook.transfer_config.max_in_memory_upload_chunks = PARTS_IN_MEMORY
        return hook

    def bucket_and_key(self) -> tuple[str, str]:
        """The bucket and key, from ``s3_bucket`` and ``s3_key`` (or a full ``s3://`` URL)."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        if not isinstance(self.s3_key, str) or not self.s3_key:
            raise AppleMusicConfigError(
                f"s3_key must be a non-empty key or an s3://bucket/key URL, got {self.s3_key!r}"
            )
        if self.s3_bucket is None and not self.s3_key.startswith("s3://"):
            raise AppleMusicConfigError(
                f"s3_bucket is not set and s3_key {self.s3_key!r} is not a full s3://bucket/key URL: "
                "give s3_bucket, or a full URL as s3_key"
            )
        try:
            bucket, key = S3Hook.get_s3_bucket_key(self.s3_bucket, self.s3_key, "s3_bucket", "s3_key")
        except (TypeError, ValueError) as err:
            raise AppleMusicConfigError(f"s3_key/s3_bucket: {err}") from None
        if not bucket or not key:
            raise AppleMusicConfigError(
                f"s3_key {self.s3_key!r} with s3_bucket {self.s3_bucket!r} names no bucket and key"
            )
        return bucket, key

    def execute(self, context: Context) -> dict[str, Any]:
        window = self._window()
        validate_language(self.language)
        bucket, key = self.bucket_and_key()
        self.hook.validate()
        if not self.replace and self.s3_hook.check_for_key(key, bucket):
            raise AppleMusicConfigError(
                f"s3://{bucket}/{key} already exists and replace=False: nothing was fetched"
            )
        pager = self.hook.library_pager(
            LIBRARY_ALBUMS,
            page_size=self.page_size,
            include=self.include,
            extend=self.extend,
            language=self.language,
            pages_in_flight=self.max_concurrency,
        )
        written = [0]
        started = time.monotonic()

        def albums() -> Iterator[list[dict[str, Any]]]:
            due = progress_ticker(PROGRESS_EVERY_SECONDS)
            for page in pager:
                kept = [album for album in page if window.keeps(album)]
                written[0] += len(kept)
                if due():
                    self._log_progress(pager, written[0], started)
                yield kept

        chunks = encode_albums(albums(), self.file_format)
        if self.compression == "gzip":
            chunks = gzip_stream(chunks)
        reader = IteratorReader(chunks)
        stream = io.BufferedReader(reader, buffer_size=1 << 20)
        try:
            self.s3_hook.load_file_obj(
                stream, key, bucket_name=bucket, replace=self.replace, encrypt=self.encrypt
            )
        except Exception:
            if reader.error is not None:
                raise reader.error from None
            raise
        self._log_progress(pager, written[0], started)
        result = {
            "s3_uri": f"s3://{bucket}/{key}",
            "album_count": written[0],
            "pages": pager.stats.pages,
            "skipped_without_date_added": window.skipped_without_date_added,
            "bytes": reader.bytes_read,
        }
        self.log.info(
            "Exported %d albums (%d pages, %d requests, %d without dateAdded skipped, %d bytes) "
            "to %s in %.1f s",
            result["album_count"],
            result["pages"],
            pager.stats.requests,
            result["skipped_without_date_added"],
            result["bytes"],
            result["s3_uri"],
            time.monotonic() - started,
        )
        self._record_asset_events(context, result)
        return result

    def asset_event_extra(self, result: dict[str, Any]) -> dict[str, Any]:
        """
        The extra of every asset event the export emits: where the object is and what it holds.

        :param result: what :meth:`execute` returns.
        """
        return {
            "uri": result["s3_uri"],
            "resource": "library/albums",
            "count": result["album_count"],
            "bytes": result["bytes"],
            "format": self.file_format,
            "compression": self.compression,
        }

    def _record_asset_events(self, context: Context, result: dict[str, Any]) -> None:
        from airflow.sdk import Asset

        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                outlet_events[outlet].extra = self.asset_event_extra(result)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        Lineage for OpenLineage: the user's library on the API host in, the S3 object out.

        OpenLineage is imported here only: the provider works without it.
        """
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        bucket, key = self.bucket_and_key()
        return OperatorLineage(
            inputs=[Dataset(namespace=self.hook.settings.base_url, name="v1/me/library/albums")],
            outputs=[Dataset(namespace=f"s3://{bucket}", name=key)],
        )

    def _log_progress(self, pager: ListingPager, written: int, started: float) -> None:
        elapsed = max(1e-6, time.monotonic() - started)
        stats = self.hook.concurrency.stats
        self.log.info(
            "Progress: %d albums fetched of %s (meta.total), %d written, %.1f pages/s, "
            "%d retries, %d throttled, concurrency %d/%d, pace %s",
            pager.stats.items,
            pager.stats.total if pager.stats.total is not None else "?",
            written,
            pager.stats.pages / elapsed,
            stats.retries,
            stats.throttled,
            self.hook.concurrency.current_limit,
            self.max_concurrency,
            f"{rate:.1f}/s" if (rate := self.hook.concurrency.current_rate) else "unlimited",
        )
