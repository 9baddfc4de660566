"""The loved-songs example through ``dag.test()``: an enriched export, then the loved songs' ISRCs as CSV."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.catalog import catalog_id_of
from tests.support import ROOT, xcom_value

if TYPE_CHECKING:
    import pytest

EXAMPLE = ROOT / "example_dags" / "applemusic_loved_songs.py"


def test_the_loved_songs_with_their_isrc_become_a_csv(
    start_emulator: Any,
    s3_bucket: Any,
    load_dag: Any,
    apple_music_pool: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyarrow.parquet as pq
    from airflow.utils.state import DagRunState

    emulator = start_emulator(songs=1_200)
    bucket = s3_bucket.bucket_name
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", bucket)
    dag = load_dag("applemusic_loved_songs", EXAMPLE.read_text())
    run = dag.test()
    assert run.state == DagRunState.SUCCESS
    songs = emulator.library_items("library-songs")
    loved = emulator.ratings("library-songs")
    expected = []
    for song in songs:
        if loved.get(song["id"]) != 1:
            continue
        catalog_id = catalog_id_of(song)
        found = emulator.catalog_attributes("songs", catalog_id) if catalog_id else None
        # some library songs come without an artist or an album: empty fields
        names = [song["attributes"].get(name) or "" for name in ("name", "artistName", "albumName")]
        expected.append([(found or {}).get("isrc", ""), *names])
    assert any(row[0] == "" for row in expected) and any(row[0] for row in expected)
    body = s3_bucket.get_object(Bucket=bucket, Key="songs/loved.csv")["Body"].read().decode("utf-8")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["ISRC", "Title", "Artist", "Album"]
    assert rows[1:] == expected
    result = xcom_value(run, "loved_songs_csv")
    assert result["count"] == len(expected)
    assert result["without_isrc"] == sum(1 for row in expected if not row[0])
    export = s3_bucket.get_object(Bucket=bucket, Key="songs/library-enriched.parquet")["Body"].read()
    table = pq.read_table(io.BytesIO(export))
    assert table.num_rows == len(songs)
    assert xcom_value(run, "export_songs")["enrichment"]["loved"] == len(expected)
