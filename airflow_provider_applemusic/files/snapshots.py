"""
Reading back what the export engine wrote: any of its formats, from any store, as a stream.

A snapshot is fetched to a local temporary file first (``Location.download``: S3 through the
amazon provider's ``S3Hook``, boto3's managed download; other stores through
``ObjectStoragePath``; a local file is read where it is), so reading holds one chunk at a time,
never the file. The format is told from the bytes, not the name:
Parquet (``PAR1``), gzip (then JSON Lines or a JSON array inside), a JSON array, JSON Lines.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tempfile
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_applemusic.files.location import Location

#: bytes read at a time
CHUNK = 1024 * 1024
#: rows read at a time from a Parquet file
PARQUET_BATCH_ROWS = 10_000
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"


@contextlib.contextmanager
def local_copy(source: Location, *, param: str = "path") -> Iterator[str]:
    """
    A local path holding the file at ``source``, for the duration of the ``with`` block: a
    local file itself, else a temporary copy. A missing file raises a config error naming
    ``param``.
    """
    if source.local_path is not None:
        if not os.path.isfile(source.local_path):
            raise AppleMusicConfigError(f"{param}: no file at {source.uri}")
        yield source.local_path
        return
    if not source.exists():
        raise AppleMusicConfigError(f"{param}: no {source.noun} at {source.uri}")
    folder = tempfile.mkdtemp(prefix="applemusic-snapshot-")
    local = os.path.join(folder, "snapshot")
    try:
        source.download(local)
        yield local
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(local)
        os.rmdir(folder)


def read_items(path: str) -> Iterator[dict[str, Any]]:
    """Every resource in an export file, in file order, one at a time (format told from the bytes)."""
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head == _PARQUET_MAGIC:
        yield from _parquet_items(path)
        return
    with contextlib.ExitStack() as stack:
        stream: io.BufferedReader = stack.enter_context(open(path, "rb"))
        if head[:2] == _GZIP_MAGIC:
            unzipped = stack.enter_context(gzip.GzipFile(fileobj=stream, mode="rb"))
            stream = io.BufferedReader(unzipped, CHUNK)
        first = stream.peek(64).lstrip()[:1]
        yield from _json_array_items(stream) if first == b"[" else _json_lines_items(stream)


def _json_lines_items(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield _resource(json.loads(line), f"line {number}")


def _json_array_items(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The elements of one top-level JSON array, decoded as they arrive."""
    decoder = json.JSONDecoder()
    text = io.TextIOWrapper(stream, encoding="utf-8")
    buffer = text.read(CHUNK).lstrip()[1:]  # after "["
    position = 0
    index = 0
    while True:
        while True:  # skip separators, reading on when the buffer runs out
            while position < len(buffer) and buffer[position] in " \t\r\n,":
                position += 1
            if position < len(buffer):
                break
            more = text.read(CHUNK)
            if not more:
                raise ValueError("the JSON array ends without ']'")
            buffer, position = more, 0
        if buffer[position] == "]":
            return
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                break
            except json.JSONDecodeError:
                more = text.read(CHUNK)
                if not more:
                    raise
                buffer, position = buffer[position:] + more, 0
        yield _resource(value, f"element {index}")
        index += 1
        position = end


def _parquet_items(path: str) -> Iterator[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise AppleMusicConfigError(
            "reading a Parquet snapshot needs pyarrow: install airflow-provider-applemusic[parquet]"
        ) from None
    parquet = pq.ParquetFile(path)
    if "resource_json" not in parquet.schema_arrow.names:
        raise AppleMusicConfigError(f"{path} is not a Parquet export of this provider: no resource_json")
    rows = (
        text
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=["resource_json"])
        for text in batch.column(0).to_pylist()
    )
    for number, text in enumerate(rows):
        yield _resource(json.loads(text), f"row {number}")


def _resource(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ValueError(f"{where} is not a resource with an 'id': {str(value)[:80]}")
    return value
