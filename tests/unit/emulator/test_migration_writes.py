"""The emulator's migration endpoints, without serving: the playlist appearance delay's flag."""

from __future__ import annotations

from airflow_provider_applemusic.emulator.__main__ import build_parser


def test_cli_playlist_delay() -> None:
    assert build_parser().parse_args(["--playlist-delay", "0.5"]).playlist_delay == 0.5
    assert build_parser().parse_args([]).playlist_delay == 2.0
