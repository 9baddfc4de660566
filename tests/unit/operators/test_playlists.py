"""The playlist read-back's pure parts: which entry holds a song, how many of the songs sent landed."""

from __future__ import annotations

from airflow_provider_applemusic.operators.playlists import (
    holds,
    landed,
)


def test_an_entry_holds_a_library_id_by_its_own_id_and_a_catalog_id_by_the_song_behind_it() -> None:
    assert holds(("i.AbC", "1440857781"), "i.AbC")
    assert holds(("i.AbC", "1440857781"), "1440857781")
    assert not holds(("i.AbC", "1440857781"), "i.Other")
    assert not holds(("i.AbC", None), "1440857781")


def test_landed_counts_the_songs_sent_that_the_entries_past_the_old_length_are() -> None:
    sent = ["101", "i.B", "102"]
    assert landed([], sent) == 0
    assert landed([("i.A", "101"), ("i.B", None), ("i.C", "102")], sent) == 3
    assert landed([("i.A", "101")], sent) == 1
    # an id the service skipped (not in the catalog) is passed over
    assert landed([("i.B", None), ("i.C", "102")], sent) == 3


def test_landed_refuses_entries_that_are_not_the_songs_sent() -> None:
    assert landed([("i.Z", "999")], ["101"]) is None
    # a repeat of a song sent once is not what was sent
    assert landed([("i.A", "101"), ("i.A", "101")], ["101"]) is None
    assert landed([("i.C", "102"), ("i.A", "101")], ["101", "102"]) is None
