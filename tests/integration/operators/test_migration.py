"""Migration pipelines: codes to catalog ids, adding by code, playlists built safely."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airflow_provider_applemusic.api.codes import CODES_PER_REQUEST, choose
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.operators.playlists import (
    PLAYLIST_STATE_KEY,
    AddTracksToPlaylistOperator,
    CreateLibraryPlaylistOperator,
)

UNKNOWN_ISRC = "ZZZZZ0000001"
UNKNOWN_UPC = "000000000017"


class _TaskInstance:
    """Records what a task pushes to XCom (the operators only call ``xcom_push``)."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


class _StateStore:
    """Airflow 3.3's task state store as a task sees it: ``get`` and ``set`` by key."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def _catalog_songs(ids: list[str]) -> list[dict[str, Any]]:
    body = AppleMusicHook().request("GET", "/v1/catalog/us/songs", {"ids": ",".join(ids)}, expect_data=True)
    return list(body["data"])


# -- A. codes to catalog ids ------------------------------------------------------------


def test_resolve_codes_in_batches_with_every_match_and_unknown_codes_empty(start_emulator: Any) -> None:
    emulator = start_emulator()
    ambiguous = emulator.isrcs(ambiguous=True)[0]
    isrcs = [ambiguous, *[code for code in emulator.isrcs() if code != ambiguous][:59]]
    upcs = emulator.upcs()[:30]
    # sent as people paste them: lower case, with dashes
    sent = [code.lower()[:5] + "-" + code[5:] for code in isrcs] + [UNKNOWN_ISRC]
    result = AppleMusicHook().resolve_codes(isrcs=sent, upcs=[*upcs, UNKNOWN_UPC], storefront="us")
    assert result["songs"] == {
        **{code: emulator.songs_for_isrc(code) for code in isrcs},
        UNKNOWN_ISRC: [],
    }
    assert result["albums"] == {**{code: emulator.albums_for_upc(code) for code in upcs}, UNKNOWN_UPC: []}
    assert len(result["songs"][ambiguous]) >= 2
    assert emulator.stats.paths["/v1/catalog/us/songs"] == math.ceil(61 / CODES_PER_REQUEST)
    assert emulator.stats.paths["/v1/catalog/us/albums"] == math.ceil(31 / CODES_PER_REQUEST)


def test_bad_codes_are_refused_before_any_request(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match="upcs holds '1234': a code is 12"):
        AppleMusicHook().resolve_codes(isrcs=["USUM71703861"], upcs=["1234"])
    assert emulator.stats.requests == 0


def test_add_by_codes_picks_one_item_per_code_and_reports_the_mapping(start_emulator: Any) -> None:
    emulator = start_emulator(add_delay=0)
    ambiguous = emulator.isrcs(ambiguous=True, in_library=False)[0]
    plain = emulator.isrcs(ambiguous=False, in_library=False)[0]
    upc = emulator.upcs(in_library=False)[0]
    album_id = next(a for a in emulator.catalog_ids("albums") if a not in emulator.albums_for_upc(upc))
    expected_song = choose(_catalog_songs(emulator.songs_for_isrc(ambiguous)))
    ti = _TaskInstance()
    operator = AddToLibraryOperator(
        task_id="add",
        ids={"albums": [album_id]},
        isrcs=[ambiguous, plain, UNKNOWN_ISRC],
        upcs=upc,
        on_unknown="warn",
    )
    result = operator.execute({"ti": ti})  # type: ignore[arg-type]
    assert result == {
        "albums": [album_id, emulator.albums_for_upc(upc)[0]],
        "songs": [expected_song, emulator.songs_for_isrc(plain)[0]],
    }
    assert ti.pushed["resolved_codes"] == {
        "isrcs": {ambiguous: expected_song, plain: emulator.songs_for_isrc(plain)[0], UNKNOWN_ISRC: None},
        "upcs": {upc: emulator.albums_for_upc(upc)[0]},
    }
    owned = emulator.library_ids("songs")
    assert expected_song in owned and emulator.songs_for_isrc(plain)[0] in owned
    again = AddToLibraryOperator(task_id="add", isrcs=[ambiguous], on_unknown="warn").execute({})  # type: ignore[arg-type]
    assert again == {"songs": [expected_song]}, "the choice is the same on every run"


def test_an_unknown_code_fails_before_anything_is_added(start_emulator: Any) -> None:
    emulator = start_emulator()
    operator = AddToLibraryOperator(task_id="add", isrcs=[emulator.isrcs()[0], UNKNOWN_ISRC])
    with pytest.raises(AppleMusicConfigError, match=r"codes the catalog does not know .*ZZZZZ0000001"):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.posts == 0


# -- B. playlists -------------------------------------------------------------------------


def _songs(emulator: Any, count: int) -> list[str]:
    return emulator.catalog_ids("songs")[:count]


def test_a_playlist_built_under_500_but_applied_faults_holds_each_track_once(start_emulator: Any) -> None:
    emulator = start_emulator(songs=60, playlist_delay=0.5)
    tracks = _songs(emulator, 40)
    isrc = emulator.isrcs(ambiguous=False)[5]
    emulator.inject("500_applied", count=1, path_prefix="/v1/me/library/playlists")
    create = CreateLibraryPlaylistOperator(
        task_id="create", name="Migrated", tracks=tracks[:10], isrcs=[isrc], appearance_timeout=10
    )
    created = create.execute({"run_id": "run-1"})  # type: ignore[arg-type]
    assert len(emulator.created_playlists()) == 1, "the applied create was recognised, not repeated"
    playlist_id = created["playlist_id"]
    emulator.inject("500_applied", count=2, path_prefix=f"/v1/me/library/playlists/{playlist_id}/tracks")
    AddTracksToPlaylistOperator(task_id="append", playlist_id=playlist_id, tracks=tracks).execute({})  # type: ignore[arg-type]
    held = emulator.playlist_tracks(playlist_id)
    expected = [*tracks[:10], emulator.songs_for_isrc(isrc)[0], *tracks[10:]]
    assert sorted(held) == sorted(dict.fromkeys(expected))
    assert len(held) == len(set(held)), "a song was appended twice"
    # two batches (25 and 5), each answered 500 but applied: read back, never sent again
    assert emulator.stats.playlist_writes["append"] == 2
    assert emulator.stats.statuses[500] == 3


def test_a_retried_create_task_reuses_its_playlist(start_emulator: Any) -> None:
    emulator = start_emulator(songs=20, playlist_delay=0.2)
    tracks = _songs(emulator, 3)
    state = _StateStore()
    context = {"run_id": "run-7", "task_state_store": state}
    operator = CreateLibraryPlaylistOperator(
        task_id="create", name="Once", tracks=tracks, if_exists="create", appearance_timeout=10
    )
    first = operator.execute(context)  # type: ignore[arg-type]
    second = operator.execute(context)  # type: ignore[arg-type]
    assert state.values[PLAYLIST_STATE_KEY] == first["playlist_id"] == second["playlist_id"]
    assert (first["created"], second["created"]) == (True, False)
    assert len(emulator.created_playlists()) == 1
    assert emulator.playlist_tracks(first["playlist_id"]) == tracks
    # a retry that lost its state still finds the playlist by this run's marker
    third = operator.execute({"run_id": "run-7", "task_state_store": _StateStore()})  # type: ignore[arg-type]
    assert third["playlist_id"] == first["playlist_id"] and len(emulator.created_playlists()) == 1


def test_if_exists_reuse_create_and_fail_across_runs(start_emulator: Any) -> None:
    emulator = start_emulator(songs=20, playlist_delay=0.2)
    tracks = _songs(emulator, 4)

    def run(run_id: str, if_exists: str) -> dict[str, Any]:
        operator = CreateLibraryPlaylistOperator(
            task_id="create", name="Road trip", tracks=tracks, if_exists=if_exists, appearance_timeout=10
        )
        return operator.execute({"run_id": run_id})  # type: ignore[arg-type]

    first = run("run-1", "reuse")
    assert run("run-2", "reuse") == {"playlist_id": first["playlist_id"], "created": False, "appended": 0}
    with pytest.raises(AppleMusicConfigError, match=r"already exists .* if_exists='fail'"):
        run("run-3", "fail")
    assert run("run-4", "create")["playlist_id"] != first["playlist_id"]
    assert len(emulator.created_playlists()) == 2


def test_a_playlist_the_app_cannot_edit_is_refused_before_any_write(start_emulator: Any) -> None:
    emulator = start_emulator(songs=20, playlists=8)
    foreign = next(
        p["id"] for p in emulator.library_items("library-playlists") if not p["attributes"]["canEdit"]
    )
    operator = AddTracksToPlaylistOperator(task_id="append", playlist_id=foreign, tracks=_songs(emulator, 2))
    with pytest.raises(AppleMusicConfigError, match="cannot be changed by this app"):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.playlist_writes["append"] == 0


def test_bad_playlist_arguments_are_refused(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    with pytest.raises(AppleMusicConfigError, match="if_exists must be one of reuse, create, fail"):
        CreateLibraryPlaylistOperator(task_id="c", name="x", if_exists="replace")
    with pytest.raises(AppleMusicConfigError, match=r"tracks holds 'pl.abc', which is not a song id"):
        CreateLibraryPlaylistOperator(task_id="c", name="x", tracks=["pl.abc"]).execute({})  # type: ignore[arg-type]
    with pytest.raises(AppleMusicConfigError, match="name must be a non-empty string"):
        CreateLibraryPlaylistOperator(task_id="c", name=" ").execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0
