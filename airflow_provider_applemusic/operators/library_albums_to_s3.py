"""LibraryAlbumsToS3Operator: every album of the user's library into one S3 object, atomically."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.location import S3Location
from airflow_provider_applemusic.operators.base import DEFAULT_CONN_ID
from airflow_provider_applemusic.operators.export import ListingExportBaseOperator

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

    from airflow_provider_applemusic.operators.export import ExportResult


class LibraryAlbumsToS3Operator(ListingExportBaseOperator):
    """
    Export every album of the user's Apple Music library into one S3 object: the S3 face of
    :class:`~airflow_provider_applemusic.operators.export.AppleMusicExportOperator`.

    Pages ``GET /v1/me/library/albums`` concurrently (in the API's order, each album once),
    streams the albums as JSON Lines or one JSON array, optionally gzipped, into S3 with a
    multipart upload (parts of 5 MiB; a retry resumes it). The object appears only when complete:
    an object already at the key is left untouched; the last failed try aborts the upload.

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
    :return: ``{"s3_uri", "album_count", "pages", "skipped_without_date_added", "bytes"}``; the
        event on every outlet asset carries the export engine's extra.
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
        super().__init__(
            resource="library-albums",
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
            **kwargs,
        )
        if not isinstance(encrypt, bool):
            raise AppleMusicConfigError(f"encrypt must be True or False, got {encrypt!r}")
        self.s3_key = s3_key
        self.s3_bucket = s3_bucket
        self.aws_conn_id = aws_conn_id
        self.encrypt = encrypt

    def check_format(self, file_format: Any, compression: Any) -> tuple[str, str | None]:
        """
        JSON Lines or one JSON array, plain or gzipped (no Parquet, no ``auto``).

        :param file_format: the ``file_format`` argument.
        :param compression: the ``compression`` argument.
        """
        if file_format not in ("jsonl", "json"):
            raise AppleMusicConfigError(f"file_format must be one of jsonl, json, got {file_format!r}")
        if compression not in (None, "gzip"):
            raise AppleMusicConfigError(f"compression must be None or 'gzip', got {compression!r}")
        return file_format, compression

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

    def destination(self) -> S3Location:
        """The S3 object named by ``s3_bucket`` and ``s3_key``."""
        bucket, key = self.bucket_and_key()
        return S3Location(bucket, key, self.aws_conn_id, encrypt=self.encrypt)

    def xcom_value(self, result: ExportResult) -> dict[str, Any]:
        """
        ``{"s3_uri", "album_count", "pages", "skipped_without_date_added", "bytes"}``.

        :param result: the export's result.
        """
        return {
            "s3_uri": result.uri,
            "album_count": result.count,
            "pages": result.pages,
            "skipped_without_date_added": result.skipped_without_date_added,
            "bytes": result.bytes,
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        Lineage for OpenLineage: the user's library on the API host in, the S3 object out.

        OpenLineage is imported here only: the provider works without it.

        :param task_instance: the finished task instance.
        """
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        bucket, key = self.bucket_and_key()
        return OperatorLineage(
            inputs=[Dataset(namespace=self.hook.settings.base_url, name="v1/me/library/albums")],
            outputs=[Dataset(namespace=f"s3://{bucket}", name=key)],
        )
