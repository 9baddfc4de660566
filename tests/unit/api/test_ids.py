"""Id validation and batching (pure functions), including property-based checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_applemusic.api.ids import (
    MAX_QUERY_CHARS,
    add_batches,
    chunks,
    normalize_ids,
    normalize_tracks,
    track_items,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

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


def test_playlist_tracks_mix_library_and_catalog_song_ids_in_order_each_typed_by_its_id() -> None:
    tracks = ["i.AbC123", "1440857781", " i.xyz ", 203709340, "1440857781"]
    assert normalize_tracks(tracks) == ["i.AbC123", "1440857781", "i.xyz", "203709340", "1440857781"]
    assert normalize_tracks(tracks, unique=True) == ["i.AbC123", "1440857781", "i.xyz", "203709340"]
    assert normalize_tracks("i.AbC123, 1440857781,") == ["i.AbC123", "1440857781"]
    assert track_items(["i.AbC123", "1440857781"]) == [
        {"id": "i.AbC123", "type": "library-songs"},
        {"id": "1440857781", "type": "songs"},
    ]


@pytest.mark.parametrize("bad", ["pl.u-aZb0N9PsZmE", "l.AbC123", "p.AbC", "r.AbC", "i.", "i.a-b", "12a", ""])
def test_a_playlist_track_that_is_no_song_id_is_refused_naming_it_and_tracks(bad: str) -> None:
    with pytest.raises(AppleMusicConfigError) as caught:
        normalize_tracks(["1440857781", bad])
    message = str(caught.value)
    assert message.startswith(f"tracks holds {bad!r}, which is not a song id")
    assert "library song ids ('i.' then letters or digits" in message
    assert "catalog song ids (digits" in message


def test_playlist_tracks_that_are_no_list_are_refused_naming_the_parameter() -> None:
    with pytest.raises(AppleMusicConfigError, match="tracks must be a list of song ids"):
        normalize_tracks({"songs": ["1"]})
    with pytest.raises(AppleMusicConfigError, match="tracks holds None, which is not a string id"):
        track_items([None])  # type: ignore[list-item]
