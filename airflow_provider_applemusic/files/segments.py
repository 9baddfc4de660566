"""
An export file encoded in segments that a later process can go on from (resumable exports).

Each format is cut where it can be continued without the state of the process that wrote the
bytes before: JSON Lines after any line, a JSON array after any item (whether an item was written
is the whole state), gzip by ending the member (a file of several gzip members is one gzip file,
RFC 1952 section 2.2, read whole by ``gzip``, ``zcat``, pandas and Spark), Parquet after a row
group: each segment is written by a ParquetWriter of its own whose offsets are those of the whole
file, and the footer gathers the row-group metadata of every segment, so the file is the one a
single writer makes. The same batches cut at the same places give the same bytes, whichever
process wrote which segment.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pyarrow as pa

#: Parquet: a segment's size is estimated as its rows in Arrow form over this (about what snappy
#: makes of JSON text; a segment that comes out smaller than an S3 part joins the next part)
PARQUET_ARROW_RATIO = 4
#: Parquet: a segment (a row group at least) is not cut before this estimated size, whatever the
#: part size: row groups of a few hundred rows would make a poor file
PARQUET_MIN_SEGMENT = 4 * 1024 * 1024
_ZEROS = bytes(1 << 20)


class SegmentEncoder:
    """
    The bytes of an export file, segment by segment.

    :param resource: the resource (Parquet: its schema).
    :param file_format: ``jsonl``, ``json`` or ``parquet``.
    :param compression: ``gzip`` (JSON formats), ``snappy``, ``zstd`` (Parquet) or None.
    :param state: :meth:`state` after the last segment an earlier encoder cut (None: the file's
        start).
    :param enrich: the enrichments the items carry (Parquet: their columns).
    """

    def __init__(
        self,
        resource: str,
        file_format: str,
        compression: str | None,
        state: dict[str, Any] | None = None,
        *,
        enrich: Sequence[str] = (),
    ) -> None:
        self.resource = resource
        self.enrich = tuple(enrich)
        self.file_format = file_format
        self.compression = compression
        state = state or {}
        #: bytes of the file before this segment
        self.offset = int(state.get("offset", 0))
        #: an item was written (a JSON array's separator)
        self.started = bool(state.get("started", False))
        self._segment_bytes = 0
        self._gzip: Any = None
        self._parquet: _ParquetSegment | None = None

    def state(self) -> dict[str, Any]:
        """What a later encoder needs to go on after the last cut (JSON-able)."""
        return {"offset": self.offset, "started": self.started}

    def size(self) -> int:
        """About how many bytes the current segment holds (to decide where to cut)."""
        if self._parquet is not None:
            return self._segment_bytes + self._parquet.pending_bytes // PARQUET_ARROW_RATIO
        return self._segment_bytes

    def due(self, part_size: int) -> bool:
        """
        Whether the segment should be cut now, for parts of ``part_size`` bytes.

        :param part_size: the stage's part size.
        """
        if self.file_format == "parquet":
            # the row groups written, not an estimate of the rows pending: cut then, the segment
            # (with its pending rows) fills one part by itself; a segment cut on the estimate came
            # out just under a part, joined the next, and parts twice the size were held in memory
            return self._segment_bytes >= max(part_size, PARQUET_MIN_SEGMENT)
        return self.size() >= part_size

    def add(self, batch: list[dict[str, Any]]) -> bytes:
        """
        Encode ``batch``; the bytes ready now.

        :param batch: the items of one page, in order.
        """
        if not batch:
            return b""
        if self.file_format == "parquet":
            if self._parquet is None:
                self._parquet = _ParquetSegment(self.resource, self.compression, self.offset, self.enrich)
            return self._count(self._parquet.add(batch))
        if self.file_format == "jsonl":
            text = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in batch)
        else:
            text = ",".join(json.dumps(a, ensure_ascii=False) for a in batch)
            text = ("[" if not self.started else ",") + text
        self.started = True
        return self._count(self._compress(text.encode("utf-8")))

    def cut(self) -> tuple[bytes, str | None]:
        """
        End the segment: the bytes that close it and, for Parquet, its row-group metadata (base64,
        for :meth:`finish`); the next segment starts at :attr:`offset`.
        """
        meta = None
        if self._parquet is not None:
            data, meta = self._parquet.close()
            self._parquet = None
        else:
            data = self._gzip.flush() if self._gzip is not None else b""
            self._gzip = None
        self._count(data)
        self.offset += self._segment_bytes
        self._segment_bytes = 0
        return data, meta

    def finish(self, metas: Iterable[str]) -> bytes:
        """
        The file's last bytes: the open segment closed, then the JSON array's ``]`` or the
        Parquet footer of every segment's row groups.

        :param metas: the row-group metadata each earlier :meth:`cut` gave, in order (Parquet).
        """
        if self.file_format == "parquet":
            data, meta = self.cut()
            return data + parquet_footer(
                [*metas, *([meta] if meta else [])], self.resource, self.compression, self.enrich
            )
        if self.file_format == "json":
            closing = b"]" if self.started else b"[]"
            data = self._count(self._compress(closing))
        else:
            data = b""
            if self.compression == "gzip" and self._gzip is None and self.offset == 0:
                data = self._count(self._compress(b""))  # an empty export is still one gzip member
        tail, _ = self.cut()
        return data + tail

    def _compress(self, data: bytes) -> bytes:
        if self.compression != "gzip":
            return data
        if self._gzip is None:
            self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)
        return bytes(self._gzip.compress(data))

    def _count(self, data: bytes) -> bytes:
        self._segment_bytes += len(data)
        return data


class _ParquetSegment:
    """One segment of a Parquet file: a writer of its own, its offsets those of the whole file."""

    def __init__(self, resource: str, compression: str | None, offset: int, enrich: Sequence[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from airflow_provider_applemusic.files.parquet import UNIQUE_COLUMNS, _columns_of, schema_for

        self.schema = schema_for(resource, enrich)
        typed = _columns_of(resource, enrich)
        self.columns = [(kind, get) for _, kind, get in typed]
        self.sink = _Skipping(offset)
        stream = pa.PythonFile(self.sink, mode="w")
        self.writer = pq.ParquetWriter(
            stream,
            self.schema,
            compression=compression or "none",
            use_dictionary=[name for name, _, _ in typed if name not in UNIQUE_COLUMNS],
            memory_pool=pa.system_memory_pool(),
        )
        # the writer has written the magic; the bytes before ``offset`` are the earlier segments'
        pad = offset - 4 if offset else 0
        while pad > 0:
            step = min(pad, len(_ZEROS))
            stream.write(_ZEROS[:step])
            pad -= step
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.pending_bytes = 0

    def add(self, items: list[dict[str, Any]]) -> bytes:
        from airflow_provider_applemusic.files.parquet import ROW_GROUP_BYTES, ROW_GROUP_ROWS, _record_batch

        batch = _record_batch(items, self.columns, self.schema)
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        self.pending_bytes += batch.nbytes
        if self.pending_rows >= ROW_GROUP_ROWS or self.pending_bytes >= ROW_GROUP_BYTES:
            return self._flush()
        return b""

    def _flush(self) -> bytes:
        import pyarrow as pa

        if self.pending_rows:
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            self.writer.write_table(table, row_group_size=max(1, self.pending_rows))
        self.pending, self.pending_rows, self.pending_bytes = [], 0, 0
        return self.sink.drain()

    def close(self) -> tuple[bytes, str]:
        data = self._flush()
        self.writer.close()
        self.sink.drain()  # this writer's own footer: the file's is written by ``parquet_footer``
        buffer = io.BytesIO()
        self.writer.writer.metadata.write_metadata_file(buffer)
        return data, base64.b64encode(zlib.compress(buffer.getvalue())).decode("ascii")


def parquet_footer(
    metas: list[str], resource: str, compression: str | None, enrich: Sequence[str] = ()
) -> bytes:
    """
    The footer of a Parquet file made of segments.

    :param metas: each segment's row-group metadata, as :meth:`SegmentEncoder.cut` gave it.
    :param resource: the resource (the schema of an empty file).
    :param compression: the compression (of an empty file).
    :param enrich: the enrichments (the schema of an empty file).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not metas:  # nothing was written: the whole empty file, magic and footer
        sink = io.BytesIO()
        pq.ParquetWriter(sink, _schema(resource, enrich), compression=compression or "none").close()
        return sink.getvalue()
    merged = None
    for meta in metas:
        read = pq.read_metadata(pa.BufferReader(zlib.decompress(base64.b64decode(meta))))
        if merged is None:
            merged = read
        else:
            merged.append_row_groups(read)
    assert merged is not None
    buffer = io.BytesIO()
    merged.write_metadata_file(buffer)
    return buffer.getvalue()[4:]  # the file's own magic came with the first segment


def _schema(resource: str, enrich: Sequence[str]) -> pa.Schema:
    from airflow_provider_applemusic.files.parquet import schema_for

    return schema_for(resource, enrich)


class _Skipping(io.RawIOBase):
    """A write-only sink that drops its first ``skip`` bytes and hands over the rest when drained."""

    def __init__(self, skip: int) -> None:
        super().__init__()
        self.skip = skip
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if self.skip >= size:
            self.skip -= size
            return size
        chunk = bytes(memoryview(data).cast("B")[self.skip :])
        self.skip = 0
        self._chunks.append(chunk)
        return size

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data
