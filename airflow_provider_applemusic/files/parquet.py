"""
Parquet output: one declared Arrow schema per resource, written in row groups as they fill.

The attributes people query are typed columns; the whole resource is kept as a JSON string
column (``resource_json``), so nothing the service sent is lost and an attribute of an
unexpected type becomes a null, never a failed run. pyarrow is an optional dependency
(``airflow-provider-applemusic[parquet]``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.catalog import catalog_id_of, description_text
from airflow_provider_applemusic.api.dates import date_added
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    import pyarrow as pa

#: columns whose values are all different: no dictionary encoding
UNIQUE_COLUMNS = frozenset({"id", "resource_json", "catalog_id", "play_id", "isrc", "upc", "url"})
#: a row group is written when it reaches this many rows, or this many bytes in Arrow form
#: (before encoding), whichever comes first: songs make groups of about 7,000 rows (3,700
#: enriched), about 0.9 MiB snappy-compressed. Memory holds one row group in Arrow form and its
#: encoded pages, so these bound the memory of a Parquet export whatever its length. Readers
#: (DuckDB, Polars, Spark, pyarrow) scan row groups in parallel and skip them by statistics; a
#: 200,000-song file has 28 groups: enough to spread, few enough that the footer stays
#: small (see docs/enriched-exports.md).
ROW_GROUP_ROWS = 16_384
ROW_GROUP_BYTES = 4 * 1024 * 1024
#: the columns each enrichment adds (``catalog``: the catalog resource's attributes, falling
#: back to the item's own where the catalog gave none)
ENRICHED_COLUMNS: dict[str, tuple[str, ...]] = {
    "catalog": (
        "catalog_status", "isrc", "upc", "record_label", "genre_names", "release_date",
        "duration_ms", "audio_traits", "content_rating", "composer_name", "url",
    ),
    "ratings": ("rating",),
}  # fmt: skip


def _attribute(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: (item.get("attributes") or {}).get(name)


def _catalog_attribute(name: str) -> Callable[[dict[str, Any]], Any]:
    """The enriched item's catalog attribute ``name``, else its own attribute of that name."""

    def get(item: dict[str, Any]) -> Any:
        catalog = item.get("catalog")
        if isinstance(catalog, dict) and catalog.get(name) is not None:
            return catalog[name]
        return (item.get("attributes") or {}).get(name)

    return get


def _enriched_columns() -> dict[str, tuple[pa.DataType, Callable[[dict[str, Any]], Any]]]:
    import pyarrow as pa

    names = {
        "isrc": "isrc",
        "upc": "upc",
        "record_label": "recordLabel",
        "genre_names": "genreNames",
        "release_date": "releaseDate",
        "duration_ms": "durationInMillis",
        "audio_traits": "audioTraits",
        "content_rating": "contentRating",
        "composer_name": "composerName",
        "url": "url",
    }
    columns = _columns()
    typed = {
        name: (columns[name][0] if name in columns else pa.string(), _catalog_attribute(attribute))
        for name, attribute in names.items()
    }
    typed["audio_traits"] = (pa.list_(pa.string()), typed["audio_traits"][1])
    typed["catalog_status"] = (pa.string(), lambda item: item.get("catalog_status"))
    typed["rating"] = (pa.int8(), lambda item: item.get("rating"))
    return typed


def _date_added(item: dict[str, Any]) -> dt.datetime | None:
    added = date_added(item)
    return added.replace(tzinfo=None) if added is not None else None


def _columns() -> dict[str, tuple[pa.DataType, Callable[[dict[str, Any]], Any]]]:
    import pyarrow as pa

    return {
        "id": (pa.string(), lambda item: item.get("id")),
        "change": (pa.string(), lambda record: record.get("change")),
        "type": (pa.string(), lambda item: item.get("type")),
        "name": (pa.string(), _attribute("name")),
        "artist_name": (pa.string(), _attribute("artistName")),
        "album_name": (pa.string(), _attribute("albumName")),
        "genre_names": (pa.list_(pa.string()), _attribute("genreNames")),
        "track_count": (pa.int32(), _attribute("trackCount")),
        "track_number": (pa.int32(), _attribute("trackNumber")),
        "duration_ms": (pa.int64(), _attribute("durationInMillis")),
        "release_date": (pa.string(), _attribute("releaseDate")),
        "date_added": (pa.timestamp("us", tz="UTC"), _date_added),
        "content_rating": (pa.string(), _attribute("contentRating")),
        "catalog_id": (pa.string(), catalog_id_of),
        "can_edit": (pa.bool_(), _attribute("canEdit")),
        "description": (pa.string(), description_text),
    }


#: the typed columns of each resource, in order; ``resource_json`` follows them all
RESOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "library-albums": (
        "id", "type", "name", "artist_name", "genre_names", "track_count", "release_date",
        "date_added", "content_rating", "catalog_id",
    ),
    "library-songs": (
        "id", "type", "name", "artist_name", "album_name", "genre_names", "track_number",
        "duration_ms", "release_date", "date_added", "content_rating", "catalog_id",
    ),
    "library-artists": ("id", "type", "name", "date_added", "catalog_id"),
    "library-playlists": ("id", "type", "name", "description", "can_edit", "date_added", "catalog_id"),
    "library-music-videos": (
        "id", "type", "name", "artist_name", "album_name", "genre_names", "duration_ms",
        "release_date", "date_added", "content_rating", "catalog_id",
    ),
    "recently-added": ("id", "type", "name", "artist_name", "genre_names", "track_count", "catalog_id"),
    "recently-played-tracks": (
        "id", "type", "name", "artist_name", "album_name", "genre_names", "duration_ms",
        "release_date", "content_rating", "catalog_id",
    ),
    "heavy-rotation": ("id", "type", "name", "artist_name", "catalog_id"),
    # a change log (LibraryChangesOperator): resource_json holds each whole change record
    "changes": ("change", "id"),
}  # fmt: skip


def _timestamp(name: str) -> Callable[[dict[str, Any]], Any]:
    def get(row: dict[str, Any]) -> dt.datetime | None:
        text = row.get(name)
        return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc) if isinstance(text, str) else None

    return get


def _ledger_columns() -> dict[str, tuple[pa.DataType, Callable[[dict[str, Any]], Any]]]:
    """
    The play ledger's columns (``ListeningHistoryOperator``, ``PlayActivityImportOperator``):
    flat rows, read by name. ``played_at`` is known only from the privacy export (null when polled).
    """
    import pyarrow as pa

    def flat(name: str) -> Callable[[dict[str, Any]], Any]:
        return lambda row: row.get(name)

    when = pa.timestamp("us", tz="UTC")
    return {
        "kind": (pa.string(), flat("kind")),
        "play_id": (pa.string(), flat("play_id")),
        "id": (pa.string(), flat("id")),
        "type": (pa.string(), flat("type")),
        "catalog_id": (pa.string(), flat("catalog_id")),
        "name": (pa.string(), flat("name")),
        "artist_name": (pa.string(), flat("artist_name")),
        "album_name": (pa.string(), flat("album_name")),
        "duration_ms": (pa.int64(), flat("duration_ms")),
        "observed_after": (when, _timestamp("observed_after")),
        "observed_before": (when, _timestamp("observed_before")),
        "estimated_played_at": (when, _timestamp("estimated_played_at")),
        "played_at": (when, _timestamp("played_at")),
        "source": (pa.string(), flat("source")),
    }


def _replay_columns() -> dict[str, tuple[pa.DataType, Callable[[dict[str, Any]], Any]]]:
    """Replay's columns (``AppleMusicExportOperator(resource="replay")``): one row per view, rank, item."""
    import pyarrow as pa

    def flat(name: str) -> Callable[[dict[str, Any]], Any]:
        return lambda row: row.get(name)

    text = ("period", "view", "entry_id", "id", "type", "name", "artist_name", "album_name")
    columns = {name: (pa.string(), flat(name)) for name in text}
    return {
        "year": (pa.int32(), flat("year")),
        "period": columns["period"],
        "view": columns["view"],
        "rank": (pa.int32(), flat("rank")),
        **{name: columns[name] for name in text[2:]},
    }


#: resources whose rows are flat records (not API resources), with columns of their own
FLAT_RESOURCES: dict[str, Callable[[], dict[str, tuple[pa.DataType, Callable[[dict[str, Any]], Any]]]]] = {
    "ledger": _ledger_columns,
    "replay": _replay_columns,
}


def _columns_of(
    resource: str, enrich: Sequence[str] = ()
) -> list[tuple[str, pa.DataType, Callable[[dict[str, Any]], Any]]]:
    """
    The typed columns of ``resource``'s Parquet file, in order, with their getters; each
    enrichment of ``enrich`` adds its columns (or, for one the resource has, fills it from the
    catalog first).
    """
    if resource in FLAT_RESOURCES:
        return [(name, kind, get) for name, (kind, get) in FLAT_RESOURCES[resource]().items()]
    columns = _columns()
    names = list(RESOURCE_COLUMNS[resource])
    if enrich:
        added = [name for kind in enrich for name in ENRICHED_COLUMNS[kind]]
        columns.update({name: getter for name, getter in _enriched_columns().items() if name in added})
        names += [name for name in added if name not in names]
    return [(name, *columns[name]) for name in names]


def _require_pyarrow() -> None:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise AppleMusicConfigError(
            "file_format 'parquet' needs pyarrow: install airflow-provider-applemusic[parquet]"
        ) from None


def schema_for(resource: str, enrich: Sequence[str] = ()) -> pa.Schema:
    """The declared Arrow schema of ``resource``'s Parquet export (``enrich``: its enrichments)."""
    _require_pyarrow()
    import pyarrow as pa

    fields = [pa.field(name, kind) for name, kind, _ in _columns_of(resource, enrich)]
    fields.append(pa.field("resource_json", pa.string(), nullable=False))
    metadata = {"applemusic.resource": resource}
    if enrich:
        metadata["applemusic.enrich"] = ",".join(enrich)
    return pa.schema(fields, metadata=metadata)


def _typed(value: Any, kind: pa.DataType) -> Any:
    """``value`` when it fits the column's type, else None (never a failed run)."""
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else None
    if pa.types.is_boolean(kind):
        return value if isinstance(value, bool) else None
    if pa.types.is_integer(kind):
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        bits = kind.bit_width - 1
        return value if -(2**bits) <= value < 2**bits else None
    if pa.types.is_list(kind):
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    if pa.types.is_timestamp(kind):
        return value if isinstance(value, dt.datetime) else None
    return None


class _Drain(io.RawIOBase):
    """A write-only sink that hands over what was written since it was last drained."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _record_batch(
    items: list[dict[str, Any]],
    columns: list[tuple[pa.DataType, Callable[[dict[str, Any]], Any]]],
    schema: pa.Schema,
    pool: pa.MemoryPool | None = None,
) -> pa.RecordBatch:
    """
    ``items`` as Arrow arrays: the typed ``columns``, then the whole resource as JSON; their
    memory from ``pool`` (None: the system allocator, see :func:`parquet_stream`).
    """
    import pyarrow as pa

    pool = pool or pa.system_memory_pool()

    arrays = [
        pa.array([_typed(get(item), kind) for item in items], type=kind, memory_pool=pool)
        for kind, get in columns
    ]
    text = [json.dumps(item, ensure_ascii=False) for item in items]
    arrays.append(pa.array(text, type=pa.string(), memory_pool=pool))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def parquet_stream(
    batches: Iterable[list[dict[str, Any]]],
    resource: str,
    compression: str | None,
    *,
    enrich: Sequence[str] = (),
) -> Iterator[bytes]:
    """
    Write ``batches`` of ``resource`` (enriched with ``enrich``) as Parquet and yield the bytes
    as each row group is written. Each incoming batch becomes Arrow arrays at once (compact,
    unlike Python objects), so memory holds about one row group (:data:`ROW_GROUP_ROWS`,
    :data:`ROW_GROUP_BYTES`) in Arrow form and its encoded pages. Arrow's memory comes from the
    system allocator: its default pool (mimalloc) keeps freed row groups' memory, which made
    the peak grow with the file. The same input gives the same bytes.
    """
    schema = schema_for(resource, enrich)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pool = pa.system_memory_pool()
    typed = _columns_of(resource, enrich)
    names = [name for name, _, _ in typed]
    columns = [(kind, get) for _, kind, get in typed]
    sink = _Drain()
    # ids and whole resources are unique: a dictionary for them is built, then thrown away
    writer = pq.ParquetWriter(
        pa.PythonFile(sink, mode="w"),
        schema,
        compression=compression or "none",
        use_dictionary=[name for name in names if name not in UNIQUE_COLUMNS],
        memory_pool=pool,
    )
    pending: list[pa.RecordBatch] = []
    pending_rows = pending_bytes = 0

    def flush(rows: int) -> bytes:
        """Write the first ``rows`` pending rows as one row group; keep the rest pending."""
        nonlocal pending, pending_rows, pending_bytes
        table = pa.Table.from_batches(pending, schema=schema)
        writer.write_table(table.slice(0, rows), row_group_size=max(1, rows))
        rest = table.slice(rows)
        pending = rest.combine_chunks(memory_pool=pool).to_batches() if rest.num_rows else []
        pending_rows = rest.num_rows
        pending_bytes = sum(batch.nbytes for batch in pending)
        return sink.drain()

    try:
        for items in batches:
            if not items:
                continue
            batch = _record_batch(items, columns, schema, pool)
            pending.append(batch)
            pending_rows += batch.num_rows
            pending_bytes += batch.nbytes
            while pending_rows >= ROW_GROUP_ROWS or pending_bytes >= ROW_GROUP_BYTES:
                yield flush(_rows_within(pending, ROW_GROUP_ROWS, ROW_GROUP_BYTES))
        if pending_rows:
            yield flush(pending_rows)
    finally:
        writer.close()
    yield sink.drain()


def _rows_within(pending: list[pa.RecordBatch], most_rows: int, most_bytes: int) -> int:
    """
    How many leading rows of ``pending`` make a row group: at most ``most_rows``, and whole
    batches up to about ``most_bytes`` (at least one batch).
    """
    rows = size = 0
    for batch in pending:
        if rows and size + batch.nbytes > most_bytes:
            break
        rows += batch.num_rows
        size += batch.nbytes
        if rows >= most_rows:
            break
    return max(1, min(rows, most_rows))
