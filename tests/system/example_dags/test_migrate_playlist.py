"""The playlist-migration example through ``dag.test()``: a CSV of ISRCs becomes one playlist, once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.support import ROOT, xcom_value

if TYPE_CHECKING:
    import pathlib

EXAMPLE = ROOT / "example_dags" / "applemusic_migrate_playlist.py"


def test_a_csv_of_isrcs_becomes_one_playlist_and_a_rerun_changes_nothing(
    start_emulator: Any, load_dag: Any, tmp_path: pathlib.Path
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(songs=80, playlist_delay=0.5)
    isrcs = emulator.isrcs(ambiguous=False)[:12]
    csv = tmp_path / "road-trip.csv"
    csv.write_text("isrc,title\n" + "".join(f"{code.lower()},song {n}\n" for n, code in enumerate(isrcs)))
    dag = load_dag("applemusic_migrate_playlist", EXAMPLE.read_text())
    conf = {"csv": f"file://{csv}", "name": "Road trip"}
    first = dag.test(run_conf=conf)
    assert first.state == DagRunState.SUCCESS
    result = xcom_value(first, "build_playlist")
    assert result["created"] is True
    playlist_id = result["playlist_id"]
    expected = [emulator.songs_for_isrc(code)[0] for code in isrcs]
    assert emulator.playlist_tracks(playlist_id) == expected
    second = dag.test(run_conf=conf)
    assert second.state == DagRunState.SUCCESS
    assert xcom_value(second, "build_playlist") == {
        "playlist_id": playlist_id,
        "created": False,
        "appended": 0,
    }
    assert len(emulator.created_playlists()) == 1
    assert emulator.playlist_tracks(playlist_id) == expected
