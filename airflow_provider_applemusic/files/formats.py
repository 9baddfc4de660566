"""Pure pieces of an export: date windows, formats and compressions, serialisation to bytes."""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.dates import date_added, parse_instant
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

__all__ = ["AddedWindow", "content_type", "date_added", "encode", "parse_instant", "resolve_format"]

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator

FILE_FORMATS = ("jsonl", "json", "parquet")
#: the compressions each format allows; "auto" picks the first
COMPRESSIONS: dict[str, tuple[str | None, ...]] = {
    "jsonl": (None, "gzip"),
    "json": (None, "gzip"),
    "parquet": ("snappy", "zstd", None),
}
CONTENT_TYPES = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}


def resolve_format(file_format: Any, compression: Any) -> tuple[str, str | None]:
    """
    Check ``file_format`` and ``compression`` together; ``"auto"`` means none for the JSON
    formats and ``snappy`` for Parquet.
    """
    if file_format not in FILE_FORMATS:
        raise AppleMusicConfigError(
            f"file_format must be one of {', '.join(FILE_FORMATS)}, got {file_format!r}"
        )
    allowed = COMPRESSIONS[file_format]
    if compression == "auto":
        return file_format, allowed[0]
    if compression not in allowed:
        names = ", ".join("None" if c is None else repr(c) for c in allowed)
        raise AppleMusicConfigError(
            f"compression must be 'auto' or one of {names} for file_format {file_format!r}, "
            f"got {compression!r}"
        )
    return file_format, compression


def content_type(file_format: str, compression: str | None) -> str:
    """The ``Content-Type`` of an export file."""
    if compression == "gzip":
        return "application/gzip"
    return CONTENT_TYPES[file_format]


def encode(
    batches: Iterable[list[dict[str, Any]]], resource: str, file_format: str, compression: str | None
) -> Iterator[bytes]:
    """The export file as a stream of bytes, in ``file_format`` with ``compression``."""
    if file_format == "parquet":
        from airflow_provider_applemusic.parquet import parquet_stream

        return parquet_stream(batches, resource, compression)
    chunks = encode_json(batches, file_format)
    return gzip_stream(chunks) if compression == "gzip" else chunks


class AddedWindow:
    """
    The half-open window ``[after, before)`` on ``dateAdded``; items without it are counted.

    :param after: the window's start (inclusive), or None.
    :param before: the window's end (exclusive), or None.
    """

    def __init__(self, after: dt.datetime | None, before: dt.datetime | None) -> None:
        if after is not None and before is not None and after >= before:
            hint = (
                " (Airflow 3's default cron schedule gives runs an empty data interval: use "
                "CronTriggerTimetable(..., interval=timedelta(days=1)) for daily windows)"
                if after == before
                else ""
            )
            raise AppleMusicConfigError(
                f"added_after must be earlier than added_before, got {after.isoformat()} >= "
                f"{before.isoformat()}{hint}"
            )
        self.after = after
        self.before = before
        self.skipped_without_date_added = 0

    @property
    def active(self) -> bool:
        return self.after is not None or self.before is not None

    def keeps(self, item: dict[str, Any]) -> bool:
        """True when ``item`` belongs in the export."""
        if not self.active:
            return True
        added = date_added(item)
        if added is None:
            self.skipped_without_date_added += 1
            return False
        if self.after is not None and added < self.after:
            return False
        return self.before is None or added < self.before


def encode_json(batches: Iterable[list[dict[str, Any]]], file_format: str) -> Iterator[bytes]:
    """Serialise batches of resources: one JSON object per line, or one JSON array."""
    first = True
    if file_format == "json":
        yield b"["
    for batch in batches:
        if not batch:
            continue
        if file_format == "jsonl":
            yield "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in batch).encode("utf-8")
        else:
            text = ",".join(json.dumps(a, ensure_ascii=False) for a in batch)
            yield (text if first else "," + text).encode("utf-8")
        first = False
    if file_format == "json":
        yield b"]"


def gzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Gzip a byte stream reproducibly (header mtime 0)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()
