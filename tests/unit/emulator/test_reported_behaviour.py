"""
The behaviour client authors reported (shared notes, 2026-11-30), without serving: the knobs of
playlist repeats, songs without ``playParams``, withdrawn ids, and the command line's flags.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from airflow_provider_applemusic.emulator.__main__ import build_parser


def test_no_playlist_repeats_gives_each_song_once() -> None:
    emulator = AppleMusicEmulator(
        albums=5, songs=300, playlists=30, playlist_tracks=30, playlist_repeats=False
    )
    for playlist in emulator.playlist_ids(with_tracks=True):
        tracks = emulator.playlist_tracks(playlist)
        assert len(tracks) == len(set(tracks))
    assert build_parser().parse_args(["--no-playlist-repeats"]).playlist_repeats is False
    assert build_parser().parse_args([]).playlist_repeats is True


def test_real_library_knobs_default_and_switch_off() -> None:
    default = AppleMusicEmulator(albums=90, songs=100, music_videos=40)
    assert len(default.withdrawn_ids("albums")) == 3 and default.songs_without_play_params()
    off = AppleMusicEmulator(
        albums=90, songs=100, music_videos=40, songs_without_play_params_every=0, withdrawn_every=0
    )
    assert off.withdrawn_ids("albums") == off.withdrawn_ids("songs") == off.songs_without_play_params() == []
    # the rest of the library is the same: the knobs draw nothing from the seed
    assert [a["id"] for a in off.library()] == [a["id"] for a in default.library()]
    args = build_parser().parse_args(["--songs-without-play-params-every", "0", "--withdrawn-every", "7"])
    assert (args.songs_without_play_params_every, args.withdrawn_every) == (0, 7)
    defaults = build_parser().parse_args([])
    assert (
        defaults.songs_without_play_params_every,
        defaults.withdrawn_every,
        defaults.relationship_limit,
    ) == (
        40,
        30,
        100,
    )
    with pytest.raises(ValueError, match="withdrawn_every must be"):
        AppleMusicEmulator(withdrawn_every=-1)


def test_command_line_passes_the_new_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_applemusic.emulator import __main__ as cli

    built: list[AppleMusicEmulator] = []

    def capture(**options: Any) -> AppleMusicEmulator:
        built.append(AppleMusicEmulator(**options))
        return built[-1]

    monkeypatch.setattr(cli, "AppleMusicEmulator", capture)
    argv = ["--albums", "3", "--no-playlist-repeats", "--recently-played-short-every", "4"]
    argv += ["--html-error-bodies", "--songs-without-play-params-every", "5", "--withdrawn-every", "0"]
    assert cli.main([*argv, "--list-catalog-ids"]) == 0
    (emulator,) = built
    assert (emulator.playlist_repeats, emulator.recently_played_short_every, emulator.html_error_bodies) == (
        False,
        4,
        True,
    )
    assert (emulator.songs_without_play_params_every, emulator.withdrawn_every) == (5, 0)
    assert emulator.relationship_limit == AppleMusicEmulator().relationship_limit == 100
