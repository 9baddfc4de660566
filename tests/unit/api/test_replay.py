"""Replay summaries as rows, and the arguments Replay refuses."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.api.replay import refuse_arguments, replay_rows
from airflow_provider_applemusic.exceptions import AppleMusicConfigError


def _entry(relationship: str, item: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": "e", "type": "x", "relationships": {relationship: {"data": [item] if item else []}}}


def test_rows_follow_the_views_and_ranks_and_keep_repeats_and_gone_items() -> None:
    song = {"id": "1", "type": "songs", "attributes": {"name": "S", "artistName": "A", "albumName": "B"}}
    summary = {
        "attributes": {"period": "year", "year": "2025"},
        "views": {
            "top-artists": {"data": [_entry("artist", {"id": "9", "type": "artists"})]},
            "top-songs": {"data": [_entry("song", song), _entry("song", None), _entry("song", song)]},
        },
    }
    rows = replay_rows(summary)
    assert [(r["view"], r["rank"], r["id"]) for r in rows] == [
        ("top-songs", 1, "1"),
        ("top-songs", 2, None),
        ("top-songs", 3, "1"),
        ("top-artists", 1, "9"),
    ]
    assert rows[0]["year"] == 2025 and rows[0]["name"] == "S" and rows[0]["item"] == song
    assert rows[3]["name"] is None


@pytest.mark.parametrize("summary", [None, {}, {"attributes": {"year": 2025}}, {"views": {"top-songs": 3}}])
def test_no_summary_or_no_views_is_no_rows(summary: Any) -> None:
    assert replay_rows(summary) == []


def test_arguments_given_are_named_and_defaults_pass() -> None:
    refuse_arguments(page_size=None, include=(), playlist_tracks=False, extend="")
    with pytest.raises(AppleMusicConfigError, match=r"^added_after, page_size do not apply"):
        refuse_arguments(page_size=5, added_after="2024-01-01", include=None)
