"""
``enrich=["catalog", "ratings"]`` on the export operator and the hook's listing iterators,
against the emulator (songs without catalog ids, withdrawn ids, unrated and disliked items,
a playlist holding a song twice), to S3 on moto's server and to local files.
"""

from __future__ import annotations

import collections
import json
from typing import Any

import pytest

from airflow_provider_applemusic.api.catalog import catalog_id_of
from airflow_provider_applemusic.api.enrichment import CATALOG_TYPE, NEEDS_CATALOG_RELATIONSHIP, UNENRICHABLE
from airflow_provider_applemusic.api.resources import LISTING_RESOURCES
from airflow_provider_applemusic.exceptions import AppleMusicConfigError, AppleMusicError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.export import EXPORTABLE, AppleMusicExportOperator
from tests.support import BUDGET, KEY_LIMIT

SONGS = 1_000
BOTH = ["catalog", "ratings"]


def _export(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("task_id", "export")
    result: dict[str, Any] = AppleMusicExportOperator(**kwargs).execute({})  # type: ignore[arg-type]
    return result


def _jsonl(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def enriched(emulator: Any, items: list[dict[str, Any]], enrich: list[str]) -> list[dict[str, Any]]:
    """What enrichment should make of ``items``, from the emulator's own catalog and ratings."""
    ratings: dict[str, dict[str, int]] = {}
    out = []
    for item in items:
        record = dict(item)
        if "catalog" in enrich:
            kind, catalog_id = CATALOG_TYPE.get(item["type"]), catalog_id_of(item)
            if kind is None or catalog_id is None:
                record.update(catalog=None, catalog_status="none")
            else:
                found = emulator.catalog_attributes(kind, catalog_id)
                record.update(catalog=found, catalog_status="ok" if found is not None else "withdrawn")
        if "ratings" in enrich:
            if item["type"] not in ratings:
                ratings[item["type"]] = emulator.ratings(item["type"])
            record["rating"] = ratings[item["type"]].get(item["id"])
        out.append(record)
    return out


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    statuses = collections.Counter(row.get("catalog_status") for row in rows)
    values = collections.Counter(row.get("rating") for row in rows)
    return {
        "catalog_ok": statuses["ok"],
        "catalog_none": statuses["none"],
        "catalog_withdrawn": statuses["withdrawn"],
        "loved": values[1],
        "disliked": values[-1],
        "unrated": values[None],
    }


def test_songs_as_jsonl_to_s3_carry_catalog_status_and_rating_in_the_services_order(
    start_emulator: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(songs=SONGS)
    assert emulator.songs_without_play_params() and emulator.withdrawn_ids("songs")
    result = _export(resource="library-songs", path=f"s3://{s3_bucket.bucket_name}/songs.jsonl", enrich=BOTH)
    rows = _jsonl(s3_bucket.get_object(Bucket=s3_bucket.bucket_name, Key="songs.jsonl")["Body"].read())
    assert rows == enriched(emulator, emulator.library_items("library-songs"), BOTH)
    counts = _counts(rows)
    assert all(counts.values()), f"the data should hold every case: {counts}"
    assert result["count"] == SONGS
    assert {k: v for k, v in result["enrichment"].items() if not k.endswith("requests")} == counts
    without = set(emulator.songs_without_play_params())
    assert all(row["catalog_status"] == "none" for row in rows if row["id"] in without)
    withdrawn = set(emulator.withdrawn_ids("songs"))
    assert {catalog_id_of(row) for row in rows if row["catalog_status"] == "withdrawn"} == withdrawn


def test_albums_as_parquet_have_typed_catalog_columns_and_ratings(start_emulator: Any, tmp_path: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    emulator = start_emulator(albums=260)
    target = tmp_path / "albums.parquet"
    _export(resource="library-albums", path=str(target), file_format="parquet", enrich=BOTH)
    table = pq.read_table(target)
    assert table.schema.field("rating").type == pa.int8()
    assert table.schema.field("audio_traits").type == pa.list_(pa.string())
    assert table.schema.metadata[b"applemusic.enrich"] == b"catalog,ratings"
    rows = table.to_pylist()
    # library albums name their catalog id only in the catalog relationship: listed with include=catalog
    expected = enriched(emulator, emulator.library_items("library-albums", include_catalog=True), BOTH)
    assert [json.loads(row["resource_json"]) for row in rows] == expected
    for row, record in zip(rows, expected, strict=True):
        catalog = record["catalog"] or {}
        assert row["catalog_status"] == record["catalog_status"]
        assert row["rating"] == record["rating"]
        assert (row["upc"], row["record_label"], row["url"]) == (
            catalog.get("upc"),
            catalog.get("recordLabel"),
            catalog.get("url"),
        )
        assert row["audio_traits"] == catalog.get("audioTraits")
        assert row["isrc"] is None
    assert {row["catalog_status"] for row in rows} == {"ok", "withdrawn"}
    assert {row["rating"] for row in rows} == {1, -1, None}


def test_songs_as_parquet_take_isrc_composer_and_genres_from_the_catalog(
    start_emulator: Any, s3_bucket: Any
) -> None:
    import io

    import pyarrow.parquet as pq

    emulator = start_emulator(songs=400)
    _export(
        resource="library-songs",
        path=f"s3://{s3_bucket.bucket_name}/songs.parquet",
        file_format="parquet",
        enrich=["catalog"],
    )
    body = s3_bucket.get_object(Bucket=s3_bucket.bucket_name, Key="songs.parquet")["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert "rating" not in table.column_names
    expected = enriched(emulator, emulator.library_items("library-songs"), ["catalog"])
    for row, record in zip(table.to_pylist(), expected, strict=True):
        catalog, own = record["catalog"] or {}, record["attributes"]
        assert row["isrc"] == catalog.get("isrc")
        assert row["composer_name"] == catalog.get("composerName")
        assert row["genre_names"] == catalog.get("genreNames", own.get("genreNames"))
        assert row["release_date"] == catalog.get("releaseDate", own.get("releaseDate"))
        assert row["duration_ms"] == catalog.get("durationInMillis", own.get("durationInMillis"))
    assert any(row["isrc"] is None for row in table.to_pylist())


def test_a_10000_song_export_with_both_enrichments_sends_at_most_253_requests(
    start_emulator: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(songs=10_000)
    emulator.reset_stats()
    result = _export(resource="library-songs", path=str(tmp_path / "songs.jsonl"), enrich=BOTH)
    stats = emulator.stats
    by_kind = collections.Counter(
        "catalog" if path.startswith("/v1/catalog/") else "ratings" if path.startswith("/v1/me/ratings/")
        else "storefront" if path == "/v1/me/storefront" else "pages"
        for path in stats.paths.elements()
    )  # fmt: skip
    assert result["count"] == 10_000
    assert by_kind["catalog"] <= 100 and by_kind["ratings"] <= 50 and by_kind["storefront"] == 1
    assert stats.requests == sum(by_kind.values()) <= 100 + 100 + 50 + 3
    assert by_kind["catalog"] == result["enrichment"]["catalog_requests"]
    assert by_kind["ratings"] == result["enrichment"]["rating_requests"] == 50


def test_look_ups_of_early_pages_go_out_while_later_pages_are_fetched(
    start_emulator: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(songs=6_000, latency_ms=10)
    emulator.reset_stats()
    _export(resource="library-songs", path=str(tmp_path / "songs.jsonl"), enrich=BOTH, max_concurrency=4)
    arrivals = emulator.stats.arrivals
    pages = [n for n, path in enumerate(arrivals) if path == "/v1/me/library/songs"]
    look_ups = [n for n, path in enumerate(arrivals) if path.startswith(("/v1/catalog/", "/v1/me/ratings/"))]
    assert len(pages) >= 60 and len(look_ups) >= 80
    # the look-ups share the pages' 4 places: they start once a few pages wait for them (the
    # pager keeps up to 8 pages ahead), and go on between the following pages
    assert look_ups[0] < pages[len(pages) // 2]
    assert sum(1 for n in look_ups if n < pages[-1]) > len(look_ups) // 3


def test_enrichment_requests_are_retried_like_the_pages(start_emulator: Any, tmp_path: Any) -> None:
    emulator = start_emulator(songs=600)
    emulator.inject("504_html", count=2, path_prefix="/v1/catalog/")
    emulator.inject("500", count=1, path_prefix="/v1/me/ratings/")
    result = _export(resource="library-songs", path=str(tmp_path / "songs.jsonl"), enrich=BOTH)
    rows = _jsonl((tmp_path / "songs.jsonl").read_bytes())
    assert rows == enriched(emulator, emulator.library_items("library-songs"), BOTH)
    assert emulator.stats.statuses[504] == 2 and emulator.stats.statuses[500] == 1
    assert result["count"] == 600


def test_a_failed_enrichment_leaves_the_previous_object_untouched(
    start_emulator: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(songs=500)
    bucket = s3_bucket.bucket_name
    s3_bucket.put_object(Bucket=bucket, Key="songs.jsonl", Body=b"previous\n")
    emulator.inject("404", count=1, path_prefix="/v1/me/ratings/")
    with pytest.raises(AppleMusicError):
        _export(resource="library-songs", path=f"s3://{bucket}/songs.jsonl", enrich=BOTH)
    assert s3_bucket.get_object(Bucket=bucket, Key="songs.jsonl")["Body"].read() == b"previous\n"
    assert s3_bucket.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize(
    ("resource", "enrich", "message"),
    [
        ("library-songs", ["catalog", "lyrics"], "enrich may hold 'catalog' and 'ratings', got 'lyrics'"),
        ("library-artists", ["ratings"], "artists have no ratings"),
    ],
)
def test_bad_enrich_is_refused_before_any_request(
    start_emulator: Any, tmp_path: Any, resource: str, enrich: list[str], message: str
) -> None:
    emulator = start_emulator(songs=20, albums=5)
    with pytest.raises(AppleMusicConfigError, match=message):
        AppleMusicExportOperator(
            task_id="export", resource=resource, path=str(tmp_path / "out.jsonl"), enrich=enrich
        )
    with pytest.raises(AppleMusicConfigError, match=message):
        AppleMusicHook().iter_library(resource, enrich=enrich)
    assert emulator.stats.requests == 0
    assert not (tmp_path / "out.jsonl").exists()


def test_hook_iterators_enrich_songs_albums_and_a_playlists_repeated_tracks(start_emulator: Any) -> None:
    emulator = start_emulator(songs=300, albums=120, playlists=12)
    hook = AppleMusicHook(max_concurrency=4)
    songs = list(hook.iter_library("library-songs", enrich=BOTH, pages_in_flight=4))
    assert songs == enriched(emulator, emulator.library_items("library-songs"), BOTH)
    albums = list(hook.iter_library_albums(enrich="ratings"))
    assert albums == enriched(emulator, emulator.library(), ["ratings"])
    assert {a["rating"] for a in albums} == {1, -1, None}
    playlist = next(
        p for p in emulator.playlist_ids(with_tracks=True)
        if len(set(t := emulator.playlist_tracks(p))) < len(t)
    )  # fmt: skip
    tracks = list(hook.iter_library("library-playlist-tracks", parent_id=playlist, enrich=BOTH))
    expected = enriched(
        emulator, emulator.library_items("library-playlist-tracks", extend=(), parent_id=playlist), BOTH
    )
    assert tracks == expected
    assert len({t["id"] for t in tracks}) < len(tracks), "the playlist holds a song twice: both kept"


def test_history_items_are_rated_by_their_own_type(start_emulator: Any, tmp_path: Any) -> None:
    emulator = start_emulator(songs=200, albums=40)
    _export(resource="recently-played-tracks", path=str(tmp_path / "played.jsonl"), enrich=BOTH)
    rows = _jsonl((tmp_path / "played.jsonl").read_bytes())
    assert rows == enriched(emulator, emulator.library_items("recently-played-tracks", extend=()), BOTH)
    assert {row["type"] for row in rows} >= {"songs", "library-songs"}


def test_look_ups_draw_on_the_connections_request_budget(
    start_emulator: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = start_emulator(songs=700, rate_limit=KEY_LIMIT)
    conn = emulator.connection_dict()
    conn["extra"]["requests_per_second"] = BUDGET
    monkeypatch.setenv("AIRFLOW_CONN_APPLE_MUSIC_DEFAULT", json.dumps(conn))
    result = _export(resource="library-songs", path=str(tmp_path / "songs.jsonl"), enrich=BOTH)
    stats = emulator.stats
    look_ups = result["enrichment"]["catalog_requests"] + result["enrichment"]["rating_requests"]
    assert look_ups >= 10 and stats.requests >= look_ups + 8
    # pages and look-ups together, evenly spaced at the budget's rate: never throttled
    assert set(stats.statuses) == {200}
    assert stats.accepted_rate() <= BUDGET * 1.1


def test_with_a_date_window_only_the_items_kept_are_looked_up(start_emulator: Any, tmp_path: Any) -> None:
    emulator = start_emulator(songs=800)
    window = {"added_after": "2024-03-01", "added_before": "2024-06-01"}
    plain = _export(resource="library-songs", path=str(tmp_path / "plain.jsonl"), **window)
    emulator.reset_stats()
    result = _export(resource="library-songs", path=str(tmp_path / "songs.jsonl"), enrich=BOTH, **window)
    rows = _jsonl((tmp_path / "songs.jsonl").read_bytes())
    kept = _jsonl((tmp_path / "plain.jsonl").read_bytes())
    assert 0 < len(rows) < 800 // 2
    assert rows == enriched(emulator, kept, BOTH)
    assert result["skipped_without_date_added"] == plain["skipped_without_date_added"]
    counts = result["enrichment"]
    assert counts["catalog_ok"] + counts["catalog_none"] + counts["catalog_withdrawn"] == len(rows)
    assert counts["rating_requests"] == -(-len(rows) // 200)
    assert emulator.stats.paths["/v1/me/ratings/library-songs"] == counts["rating_requests"]


@pytest.mark.parametrize("resource", [name for name in EXPORTABLE if name not in UNENRICHABLE])
def test_every_enrichable_resource_as_parquet(start_emulator: Any, tmp_path: Any, resource: str) -> None:
    import pyarrow.parquet as pq

    emulator = start_emulator(
        shared=True, hidden_every=11, albums=150, songs=300, playlists=40, music_videos=60, history=45
    )
    target = tmp_path / f"{resource}.parquet"
    result = _export(resource=resource, path=str(target), file_format="parquet", enrich=BOTH)
    listed = emulator.library_items(
        resource,
        extend=LISTING_RESOURCES[resource].extended,
        include_catalog=resource in NEEDS_CATALOG_RELATIONSHIP,
    )
    expected = enriched(emulator, listed, BOTH)
    rows = pq.read_table(target).to_pylist()
    assert len(expected) > 5 and result["count"] == len(expected)
    assert [json.loads(row["resource_json"]) for row in rows] == expected
    assert [(row["catalog_status"], row["rating"]) for row in rows] == [
        (record["catalog_status"], record["rating"]) for record in expected
    ]
    assert any(record["catalog_status"] == "ok" for record in expected)
