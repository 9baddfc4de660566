"""The emulator's library listings without serving: sizes from the command line, defaults, speed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator import AppleMusicEmulator

if TYPE_CHECKING:
    import pytest

TOP_LEVEL = {
    "library-albums": "/v1/me/library/albums",
    "library-songs": "/v1/me/library/songs",
    "library-artists": "/v1/me/library/artists",
    "library-playlists": "/v1/me/library/playlists",
    "library-music-videos": "/v1/me/library/music-videos",
}


def test_command_line_flags_set_the_library_sizes(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from airflow_provider_applemusic.emulator import __main__ as cli

    built: list[AppleMusicEmulator] = []

    def capture(**options: Any) -> AppleMusicEmulator:
        built.append(AppleMusicEmulator(**options))
        return built[-1]

    monkeypatch.setattr(cli, "AppleMusicEmulator", capture)
    argv = ["--albums", "2", "--songs", "21", "--artists", "3", "--playlists", "7"]
    argv += ["--music-videos", "4", "--playlist-tracks", "0", "--list-catalog-ids"]
    assert cli.main(argv) == 0
    (emulator,) = built
    sizes = {r: len(emulator.library_items(r)) for r in TOP_LEVEL}
    assert sizes == {
        "library-albums": 2,
        "library-songs": 21,
        "library-artists": 3,
        "library-playlists": 7,
        "library-music-videos": 4,
    }
    assert emulator.playlist_ids(with_tracks=True) == []
    assert "songs\t" in capsys.readouterr().out  # --list-catalog-ids still works


def test_defaults_keep_the_library_small_and_consistent() -> None:
    emulator = AppleMusicEmulator(albums=5)
    assert {kind: len(emulator.library_ids(kind)) for kind in ("songs", "playlists", "music-videos")} == {
        "songs": 19,  # one of the 20 is an upload
        "playlists": 4,  # one of the 5 was made by the app
        "music-videos": 5,
    }
    assert len(emulator.library_items("library-songs")) == 20
    assert len(emulator.library_items("library-artists")) == 10


def test_a_hundred_thousand_song_library_is_generated_whole() -> None:
    # how long it takes is benchmarks/emulator.py's figure, not an assertion here
    emulator = AppleMusicEmulator(albums=10, songs=100_000)
    # 95,000 with a catalog id, but every 40th of those has none (no playParams)
    assert len(emulator.library_ids("songs")) == 95_000 - 95_000 // 40
