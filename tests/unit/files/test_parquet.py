"""Parquet output as a pure function: typed columns, nulls for odd values, row groups as they fill."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def test_an_attribute_of_an_unexpected_type_becomes_null_not_a_failure() -> None:
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files.parquet import parquet_stream

    odd = {"id": "l.1", "type": "library-albums", "attributes": {"trackCount": "twelve", "name": 5}}
    body = b"".join(parquet_stream([[odd]], "library-albums", "snappy"))
    row = pq.read_table(io.BytesIO(body)).to_pylist()[0]
    assert (row["track_count"], row["name"]) == (None, None)
    assert json.loads(row["resource_json"]) == odd


def test_parquet_row_groups_are_cut_at_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files import parquet

    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 70)
    songs = [{"id": f"i.{n}", "type": "library-songs", "attributes": {"name": f"s{n}"}} for n in range(250)]
    pages = [songs[start : start + 25] for start in range(0, 250, 25)]
    body = b"".join(parquet.parquet_stream(pages, "library-songs", "zstd"))
    meta = pq.ParquetFile(io.BytesIO(body)).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [70, 70, 70, 40]
    assert pq.read_table(io.BytesIO(body)).column("id").to_pylist() == [s["id"] for s in songs]
    assert b"".join(parquet.parquet_stream(pages, "library-songs", "zstd")) == body


def test_parquet_row_groups_are_cut_at_the_byte_limit_between_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files import parquet

    songs = [{"id": f"i.{n}", "type": "library-songs", "attributes": {"name": "x" * 400}} for n in range(300)]
    pages = [songs[start : start + 50] for start in range(0, 300, 50)]
    one_page = parquet._record_batch(
        pages[0],
        [(kind, get) for _, kind, get in parquet._columns_of("library-songs")],
        parquet.schema_for("library-songs"),
        __import__("pyarrow").system_memory_pool(),
    ).nbytes
    monkeypatch.setattr(parquet, "ROW_GROUP_BYTES", int(one_page * 2.5))
    body = b"".join(parquet.parquet_stream(pages, "library-songs", "snappy"))
    meta = pq.ParquetFile(io.BytesIO(body)).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100, 100, 100]
    assert pq.read_table(io.BytesIO(body)).column("id").to_pylist() == [s["id"] for s in songs]


def test_enriched_parquet_has_the_enrichment_columns_filled_from_the_catalog_first() -> None:
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files.parquet import parquet_stream

    song = {
        "id": "i.1",
        "type": "library-songs",
        "attributes": {"name": "a", "genreNames": ["Pop"], "durationInMillis": 1000},
        "catalog": {"isrc": "USAB12400001", "genreNames": ["Rock", "Music"], "audioTraits": ["lossless"]},
        "catalog_status": "ok",
        "rating": -1,
    }
    upload = {"id": "i.2", "type": "library-songs", "attributes": {"name": "b", "genreNames": ["Folk"]}}
    upload.update(catalog=None, catalog_status="none", rating=None)
    body = b"".join(parquet_stream([[song, upload]], "library-songs", None, enrich=("catalog", "ratings")))
    first, second = pq.read_table(io.BytesIO(body)).to_pylist()
    assert (first["isrc"], first["genre_names"], first["duration_ms"]) == (
        "USAB12400001",
        ["Rock", "Music"],
        1000,
    )
    assert (first["audio_traits"], first["catalog_status"], first["rating"]) == (["lossless"], "ok", -1)
    assert (second["isrc"], second["genre_names"], second["catalog_status"], second["rating"]) == (
        None,
        ["Folk"],
        "none",
        None,
    )
