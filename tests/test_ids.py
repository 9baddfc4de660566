"""Id validation and batching (pure functions), including property-based checks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.ids import MAX_QUERY_CHARS, add_batches, chunks, normalize_ids

numeric_ids = st.from_regex(r"\A[1-9][0-9]{5,11}\Z")
playlist_ids = st.from_regex(r"\Apl\.(u-)?[A-Za-z0-9]{8,40}\Z")


@given(st.lists(numeric_ids, max_size=50), st.lists(playlist_ids, max_size=50))
def test_valid_ids_normalise_to_first_occurrence_order(albums: list[str], playlists: list[str]) -> None:
    if not albums and not playlists:
        return
    result = normalize_ids({"albums": albums + albums, "playlists": ",".join(playlists)})
    assert result.get("albums", []) == list(dict.fromkeys(albums))
    assert result.get("playlists", []) == list(dict.fromkeys(playlists))


@given(st.text(min_size=1, max_size=30).filter(lambda s: not s.strip().isdigit() and "," not in s))
def test_malformed_album_ids_are_named(bad: str) -> None:
    if not bad.strip():
        return
    try:
        normalize_ids({"albums": [bad]})
    except AppleMusicConfigError as err:
        assert "ids['albums']" in str(err)
    else:
        raise AssertionError(f"{bad!r} was accepted")


@given(st.lists(numeric_ids, min_size=1, max_size=700, unique=True))
def test_batches_keep_every_id_once_and_stay_small(ids: list[str]) -> None:
    batches = add_batches({"albums": ids, "songs": ids[:150]})
    albums = [i for batch in batches for i in batch.get("albums", [])]
    assert albums == ids
    for batch in batches:
        assert all(len(values) <= 100 for values in batch.values())
        assert sum(len(",".join(v)) + 20 for v in batch.values()) <= MAX_QUERY_CHARS


def test_long_playlist_ids_are_chunked_by_length() -> None:
    ids = [f"pl.{'a' * 100}{n}" for n in range(100)]
    assert all(len(",".join(chunk)) < MAX_QUERY_CHARS for chunk in chunks(ids))
    assert sum(len(chunk) for chunk in chunks(ids)) == 100
