"""The emulator's ``song_listings_missing`` and ``relationship_limit``: checked, on the command line."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator


def test_flags_are_checked_and_reach_the_command_line() -> None:
    from airflow_provider_applemusic.emulator.__main__ import build_parser

    with pytest.raises(ValueError, match="relationship_limit must be an integer of 0 or more"):
        AppleMusicEmulator(relationship_limit=-1)
    args = build_parser().parse_args(["--song-listings-missing", "--relationship-limit", "100"])
    assert (args.song_listings_missing, args.relationship_limit) == (True, 100)
    assert build_parser().parse_args([]).song_listings_missing is False
