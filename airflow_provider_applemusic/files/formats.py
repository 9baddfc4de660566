"""Formats and compressions of the files the provider writes, and their serialisation to bytes."""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

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
    batches: Iterable[list[dict[str, Any]]],
    resource: str,
    file_format: str,
    compression: str | None,
    *,
    enrich: Sequence[str] = (),
) -> Iterator[bytes]:
    """
    The export file as a stream of bytes, in ``file_format`` with ``compression``; ``enrich``:
    the enrichments the items carry (Parquet gives them typed columns).
    """
    if file_format == "parquet":
        from airflow_provider_applemusic.files.parquet import parquet_stream

        return parquet_stream(batches, resource, compression, enrich=enrich)
    chunks = encode_json(batches, file_format)
    return gzip_stream(chunks) if compression == "gzip" else chunks


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
