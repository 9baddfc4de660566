"""The append-to-playlist example through ``dag.test()``: only the songs the playlist lacks, once."""

from __future__ import annotations

from typing import Any

from tests.support import ROOT, xcom_value

EXAMPLE = ROOT / "example_dags" / "applemusic_append_to_playlist.py"


def test_appends_the_songs_the_playlist_lacks_and_a_rerun_changes_nothing(
    start_emulator: Any, load_dag: Any
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(songs=40, playlist_delay=0.2)
    songs = list(emulator.library_ids("songs").values())[:4]
    # the playlist already holds the first song twice: a repeat is never taken for a failure
    playlist_id = emulator.make_playlist([songs[0], songs[1], songs[0]])
    dag = load_dag("applemusic_append_to_playlist", EXAMPLE.read_text())
    conf = {"playlist_id": playlist_id, "tracks": [songs[1], songs[2], songs[3]]}
    first = dag.test(run_conf=conf)
    assert first.state == DagRunState.SUCCESS
    assert xcom_value(first, "append_tracks") == {"playlist_id": playlist_id, "appended": 2}
    expected = [songs[0], songs[1], songs[0], songs[2], songs[3]]
    assert emulator.playlist_tracks(playlist_id) == expected
    second = dag.test(run_conf=conf)
    assert second.state == DagRunState.SUCCESS
    assert xcom_value(second, "append_tracks") == {"playlist_id": playlist_id, "appended": 0}
    assert emulator.playlist_tracks(playlist_id) == expected
