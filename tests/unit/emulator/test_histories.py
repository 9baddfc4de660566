"""The emulator's histories (recently added, recently played tracks, heavy rotation), without serving."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator import AppleMusicEmulator

if TYPE_CHECKING:
    import pytest

PATHS = {
    "recently-added": "/v1/me/library/recently-added",
    "recently-played-tracks": "/v1/me/recent/played/tracks",
    "heavy-rotation": "/v1/me/history/heavy-rotation",
    "recently-played": "/v1/me/recent/played",
}
HISTORIES = tuple(PATHS)
#: every play of the history: catalog and library songs (music videos come whatever types says)
ALL_PLAYS = ("songs", "library-songs")


def test_histories_are_deterministic_and_sized_by_their_knobs() -> None:
    one, two = AppleMusicEmulator(albums=5, seed=9), AppleMusicEmulator(albums=5, seed=9)
    for resource in HISTORIES:
        assert one.library_items(resource) == two.library_items(resource)
    assert len(one.library_items("recently-played-tracks", types=ALL_PLAYS)) == 30  # default history
    long = AppleMusicEmulator(albums=5, history=80, heavy_rotation=99)
    assert len(long.library_items("recently-played-tracks", types=ALL_PLAYS)) == 50
    assert len(long.library_items("heavy-rotation")) == 20
    # the histories are drawn apart: the library a seed gives does not depend on them
    short = AppleMusicEmulator(albums=5, seed=9, history=2, heavy_rotation=1)
    assert short.library_items("library-songs") == one.library_items("library-songs")
    assert short.catalog_ids("songs") == one.catalog_ids("songs")


def test_command_line_sets_the_history_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_applemusic.emulator import __main__ as cli

    built: list[AppleMusicEmulator] = []

    def capture(**options: Any) -> AppleMusicEmulator:
        built.append(AppleMusicEmulator(**options))
        return built[-1]

    monkeypatch.setattr(cli, "AppleMusicEmulator", capture)
    assert cli.main(["--albums", "3", "--history", "4", "--heavy-rotation", "2", "--list-catalog-ids"]) == 0
    (emulator,) = built
    assert len(emulator.library_items("recently-played-tracks", types=ALL_PLAYS)) == 4
    assert len(emulator.library_items("heavy-rotation")) == 2
