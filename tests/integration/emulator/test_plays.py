"""The emulator's plays: play(), the ground truth, listening sessions, POST /emulator/play, stale reads."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_applemusic.emulator.sessions import SessionMix
from tests import support

PLAYED = "recently-played-tracks"
PLAYED_PATH = "/v1/me/recent/played/tracks"
BOTH = "songs,library-songs"
T0 = dt.datetime(2026, 11, 2, 18, 0, tzinfo=dt.timezone.utc)


def _keys(emulator: Any) -> list[tuple[str, str]]:
    return [(e["type"], e["id"]) for e in emulator.library_items(PLAYED, extend=())]


def _read(emulator: Any) -> list[tuple[str, str]]:
    """The whole play history as one client read gets it: offset 0, then offset 30."""
    entries: list[dict[str, Any]] = []
    for offset in (0, 30):
        response = support.get(emulator, PLAYED_PATH, types=BOTH, limit=30, offset=offset)
        if response.status_code == 404:
            break
        entries += response.json()["data"]
    return [(e["type"], e["id"]) for e in entries]


def test_play_infers_the_kind_and_logs_the_ground_truth(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, songs=40, history=10)
    song = emulator.catalog_ids("songs")[0]
    video = emulator.catalog_ids("music-videos")[0]
    library_song = emulator.library_items("library-songs")[3]["id"]
    made = [
        emulator.play(song, at=T0),
        emulator.play(library_song, at=T0 + dt.timedelta(minutes=3)),
        emulator.play(video, at=T0 + dt.timedelta(minutes=7)),
        emulator.play("songs", song, at=T0 + dt.timedelta(minutes=11)),  # (kind, id): a replay
    ]
    assert [(p["type"], p["id"]) for p in made] == [
        ("songs", song),
        ("library-songs", library_song),
        ("music-videos", video),
        ("songs", song),
    ]
    assert emulator.plays() == made  # every play, the replay too: the truth the API never gives
    assert _keys(emulator)[:3] == [("songs", song), ("music-videos", video), ("library-songs", library_song)]
    assert _keys(emulator).count(("songs", song)) == 1  # the list is de-duplicated, the truth is not


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("123",), {}, "no song or music video '123'"),
        (("albums", "1"), {}, "kind must be songs, library-songs or music-videos"),
        (None, {"at": dt.datetime(2026, 11, 2, 18)}, "at must be an aware datetime"),
        (None, {"at": T0 - dt.timedelta(seconds=1)}, "at must not be before the last play"),
    ],
)
def test_bad_plays_are_refused_and_change_nothing(
    start_emulator: Any, args: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=10, songs=40, history=10, shared=True)
    song = emulator.catalog_ids("songs")[1]
    if not emulator.plays():
        emulator.play(song, at=T0)
    before = (_keys(emulator), emulator.plays())
    with pytest.raises(ValueError, match=message):
        emulator.play(*(args or (song,)), **kwargs)
    assert (_keys(emulator), emulator.plays()) == before


def test_a_listening_session_replays_mixes_kinds_and_keeps_the_list_as_the_service_does(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=20, songs=200, history=30)
    made = emulator.listening_session(60, start=T0, seed=3)
    kinds = {p["type"] for p in made}
    assert kinds == {"songs", "library-songs", "music-videos"}
    # one after the other, each when the one before it ended
    assert all(b["at"] > a["at"] for a, b in itertools.pairwise(made))
    assert made[-1]["at"] - made[0]["at"] > dt.timedelta(minutes=60)
    keys = [(p["type"], p["id"]) for p in made]
    assert any(a == b for a, b in itertools.pairwise(keys))  # on repeat, now and then
    assert len(set(keys)) < len(keys)  # replays
    # the list: the newest 50 distinct, newest first, as the service keeps it
    expected = list(dict.fromkeys(reversed(keys)))
    assert _keys(emulator)[: len(expected)] == expected[:50]
    assert len(_keys(emulator)) == 50
    assert _read(emulator) == _keys(emulator)  # types=songs,library-songs: every kind comes back
    assert emulator.plays() == made
    # the same seed draws the same session on the same history
    again = start_emulator(albums=20, songs=200, history=30)
    assert again.listening_session(60, start=T0, seed=3) == made


def test_session_shares_are_checked() -> None:
    with pytest.raises(ValueError, match="replay must be a share from 0 to 1"):
        SessionMix(replay=1.5)
    with pytest.raises(ValueError, match="repeat \\+ replay"):
        SessionMix(repeat=0.6, replay=0.6)


def test_post_emulator_play_plays_one_song_or_a_session(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, songs=60, history=10)
    song = emulator.catalog_ids("songs")[2]
    one = support.post(emulator, "/emulator/play", authorize=False, json={"id": song, "at": T0.isoformat()})
    assert one.status_code == 200
    assert one.json() == {"plays": [{"at": T0.isoformat(), "type": "songs", "id": song}]}
    burst = support.post(
        emulator, "/emulator/play", authorize=False, json={"session": 5, "at": "2026-11-02T19:00:00"}
    )
    assert burst.status_code == 200
    plays = burst.json()["plays"]
    assert len(plays) == 5 and plays[0]["at"] == "2026-11-02T19:00:00+00:00"
    assert [(p["type"], p["id"]) for p in emulator.plays()] == [("songs", song)] + [
        (p["type"], p["id"]) for p in plays
    ]
    assert not emulator.stats.requests  # control paths are not counted
    for body, says in [
        ({"id": "1"}, "no song or music video"),
        ({"session": -1}, "plays must be an integer of 0 or more"),
        ({"id": song, "session": 2}, "not both"),
        ({}, "give id"),
        ({"song": song}, "Unknown fields: song"),
        ({"id": song, "at": "2026-11-01T00:00:00Z"}, "at must not be before the last play"),
    ]:
        refused = support.post(emulator, "/emulator/play", authorize=False, json=body)
        assert refused.status_code == 400 and says in refused.json()["errors"][0]["detail"], body
    assert support.request(emulator, "GET", "/emulator/play", authorize=False).status_code == 405
    assert len(emulator.plays()) == 6


def test_the_command_line_plays_a_session_on_a_running_emulator(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, songs=60, history=10)
    command = [sys.executable, "-m", "airflow_provider_applemusic.emulator", "play", "--url", emulator.url]
    done = subprocess.run([*command, "--session", "4"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(emulator.plays()) == 4 and '"plays"' in done.stdout
    bad = subprocess.run([*command, "--id", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "no song or music video" in bad.stderr


def test_stale_order_every_shows_the_order_before_the_last_one_shown(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, songs=200, history=40, stale_order_every=3)
    first = _read(emulator)  # read 1: the current order
    emulator.play(*first[5], at=T0)
    second = _read(emulator)  # read 2: the new order
    assert second[0] == first[5] and second != first
    assert _read(emulator) == first  # read 3: the order shown before, offset 30 page too
    assert _read(emulator) == second  # read 4: current again
    assert _keys(emulator) == second  # the facade shows the truth, never a stale read


def test_music_summaries_serve_the_latest_replay_year(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, songs=200)
    query = {
        "filter[year]": "latest",
        "views": "top-songs,top-albums,top-artists",
        "include": "song,album,artist",
    }
    body = support.get(emulator, "/v1/me/music-summaries", **query).json()
    summary = body["data"][0]
    year = dt.datetime.now(dt.timezone.utc).year
    assert summary["attributes"] == {"period": "year", "year": year}
    assert summary == emulator.replay()
    songs = summary["views"]["top-songs"]["data"]
    assert len(songs) == 25 and len(summary["views"]["top-artists"]["data"]) == 10
    assert sum(1 for e in songs if not e["relationships"]["song"]["data"]) == 1  # a song that is gone
    item = songs[0]["relationships"]["song"]["data"][0]
    assert item["type"] == "songs" and item["attributes"]["name"]
    bare = support.get(emulator, "/v1/me/music-summaries", **{**query, "include": "", "views": "top-albums"})
    entry = bare.json()["data"][0]["views"]["top-albums"]["data"][0]
    assert set(entry["relationships"]["album"]["data"][0]) == {"id", "type", "href"}
    assert set(bare.json()["data"][0]["views"]) == {"top-albums"}


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ({}, 400, "filter[year]"),
        ({"filter[year]": "last"}, 400, "filter[year]"),
        ({"filter[year]": "latest", "views": "top-genres"}, 400, "views"),
        ({"filter[year]": "1999"}, 404, None),
    ],
)
def test_music_summaries_refuse_bad_queries_and_unknown_years(
    start_emulator: Any, query: dict[str, str], status: int, parameter: str | None
) -> None:
    emulator = start_emulator(albums=5, shared=True)
    response = support.get(emulator, "/v1/me/music-summaries", **query)
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error.get("source", {}).get("parameter") == parameter
    assert error["code"] == ("40400" if status == 404 else "40005")


def test_replay_missing_answers_that_the_year_does_not_exist(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5, replay_missing=True)
    response = support.get(emulator, "/v1/me/music-summaries", **{"filter[year]": "latest"})
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "40400"
