"""LibraryItemsTrigger without a poll: the playlist form serializes and round-trips."""

from __future__ import annotations

from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger


def test_serialize_of_the_playlist_form_round_trips_without_ids() -> None:
    trigger = LibraryItemsTrigger(playlist_id="p.New", poll_interval=2, deadline=123.5)
    path, kwargs = trigger.serialize()
    assert kwargs == {
        "ids": None,
        "apple_music_conn_id": "apple_music_default",
        "storefront": None,
        "poll_interval": 2.0,
        "deadline": 123.5,
        "playlist_id": "p.New",
    }
    assert LibraryItemsTrigger(**kwargs).serialize() == (path, kwargs)
    assert trigger.ids == {"playlists": ["p.New"]}
