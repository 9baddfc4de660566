"""Export files encoded in segments: the same bytes however the segments were split between processes."""

from __future__ import annotations

import gzip
import io
import json
import random
from typing import Any

import pytest

from airflow_provider_applemusic.files.formats import encode
from airflow_provider_applemusic.files.segments import SegmentEncoder

SONGS = [
    {
        "id": f"i.{n:04d}",
        "type": "library-songs",
        "attributes": {"name": f"Song {n} é", "trackNumber": n % 12},
    }
    for n in range(230)
]
BATCHES = [SONGS[i : i + 23] for i in range(0, len(SONGS), 23)]


def _encode(file_format: str, compression: str | None, cuts: set[int], restart: bool) -> bytes:
    """The file, cut after each batch in ``cuts``; with ``restart``, a new encoder after each cut."""
    encoder = SegmentEncoder("library-songs", file_format, compression)
    out, metas = bytearray(), []
    for index, batch in enumerate(BATCHES):
        out += encoder.add(batch)
        if index in cuts:
            data, meta = encoder.cut()
            out += data
            metas += [meta] if meta else []
            if restart:
                state = json.loads(json.dumps(encoder.state()))
                encoder = SegmentEncoder("library-songs", file_format, compression, state)
    return bytes(out + encoder.finish(metas))


def _records(body: bytes, file_format: str, compression: str | None) -> list[dict[str, Any]]:
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return [json.loads(t) for t in pq.read_table(io.BytesIO(body)).column("resource_json").to_pylist()]
    text = gzip.decompress(body) if compression == "gzip" else body
    if file_format == "json":
        return list(json.loads(text))
    return [json.loads(line) for line in text.decode("utf-8").splitlines()]


@pytest.mark.parametrize(
    ("file_format", "compression"),
    [
        ("jsonl", None),
        ("jsonl", "gzip"),
        ("json", None),
        ("json", "gzip"),
        ("parquet", "snappy"),
        ("parquet", None),
    ],
)
def test_a_file_continued_by_new_encoders_is_the_file_one_encoder_makes(
    file_format: str, compression: str | None
) -> None:
    cuts = {0, 3, 4, 8}
    whole = _encode(file_format, compression, cuts, restart=False)
    assert _encode(file_format, compression, cuts, restart=True) == whole
    assert _records(whole, file_format, compression) == SONGS


@pytest.mark.parametrize(("file_format", "compression"), [("jsonl", None), ("json", None)])
def test_plain_json_is_the_same_bytes_as_the_streaming_encoder(
    file_format: str, compression: str | None
) -> None:
    assert _encode(file_format, compression, {2, 5}, restart=True) == b"".join(
        encode(BATCHES, "library-songs", file_format, compression)
    )


def test_parquet_segments_are_row_groups_of_one_file() -> None:
    import pyarrow.parquet as pq

    body = _encode("parquet", "zstd", {1, 6}, restart=True)
    meta = pq.ParquetFile(io.BytesIO(body)).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [46, 115, 69]
    assert meta.num_rows == len(SONGS)


@pytest.mark.parametrize(
    ("file_format", "compression"),
    [("jsonl", None), ("jsonl", "gzip"), ("json", "gzip"), ("parquet", "snappy")],
)
def test_an_empty_export_is_a_valid_empty_file(file_format: str, compression: str | None) -> None:
    body = SegmentEncoder("library-songs", file_format, compression).finish([])
    if file_format == "parquet" or compression:
        assert body, "an empty gzip or Parquet file still has bytes"
    assert _records(body, file_format, compression) == []


def test_a_parquet_segment_cut_when_due_fills_a_part_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """A segment smaller than a part would join the next one: parts of twice the size in memory."""
    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files import parquet, segments

    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 40)
    monkeypatch.setattr(segments, "PARQUET_MIN_SEGMENT", 0)
    rng = random.Random(3)
    # like real records, they compress well: an estimate from their Arrow size falls short
    songs = [
        {
            "id": f"i.{n:05d}",
            "type": "library-songs",
            "attributes": {"name": f"Song {rng.randrange(9)}", "genreNames": ["Pop", "Rock"] * 20},
        }
        for n in range(4_000)
    ]
    part_size = 8 * 1024
    encoder = SegmentEncoder("library-songs", "parquet", "snappy")
    body, segment, sizes, metas = bytearray(), 0, [], []
    for start in range(0, len(songs), 25):
        data = encoder.add(songs[start : start + 25])
        body += data
        segment += len(data)
        if encoder.due(part_size):
            data, meta = encoder.cut()
            body += data
            sizes.append(segment + len(data))
            segment = 0
            metas.append(meta)
    body += encoder.finish(metas)
    assert len(sizes) >= 3
    assert min(sizes) >= part_size
    assert pq.read_table(io.BytesIO(bytes(body))).column("id").to_pylist() == [s["id"] for s in songs]
