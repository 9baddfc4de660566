"""The emulator's ``apply_changes`` (method, HTTP control path, command line) seen through the API."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

CLI = (sys.executable, "-m", "airflow_provider_applemusic.emulator", "apply-changes")
#: the emulator of each test (a fresh one: the tests change its library)
OPTIONS: dict[str, Any] = {"albums": 60, "songs": 30, "playlists": 8, "seed": 5}


def _json(emulator: AppleMusicEmulator, path: str, **params: Any) -> dict[str, Any]:
    response = support.get(emulator, path, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _total(emulator: AppleMusicEmulator, resource: str = "albums") -> int:
    return int(_json(emulator, f"/v1/me/library/{resource}", limit=1)["meta"]["total"])


def _newest(emulator: AppleMusicEmulator, count: int) -> list[str]:
    return [item["id"] for item in _json(emulator, "/v1/me/library/recently-added", limit=count)["data"]]


def _album_ids(emulator: AppleMusicEmulator) -> set[str]:
    return {item["id"] for item in emulator.library_items("library-albums")}


def test_counts_change_the_listing_total_and_recently_added(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(**OPTIONS)
    before_ids, before_total = _album_ids(emulator), _total(emulator)

    added, removed = emulator.apply_changes(add=2, remove=1)

    assert len(added) == 2 and len(removed) == 1
    assert _album_ids(emulator) == (before_ids - set(removed)) | set(added)
    assert _total(emulator) == before_total + 1
    assert set(_newest(emulator, 2)) == set(added)
    assert not set(removed) & set(_newest(emulator, 25))


def test_given_ids_are_added_and_removed(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(**OPTIONS)
    catalog_id = emulator.catalog_ids("albums")[0]
    victim = sorted(_album_ids(emulator))[0]

    added, removed = emulator.apply_changes(add=[catalog_id], remove=[victim])

    assert emulator.library_ids("albums")[catalog_id] == added[0]
    assert removed == [victim] and victim not in _album_ids(emulator)
    assert _newest(emulator, 1) == added


def test_other_listings_change_their_own_total(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(**OPTIONS)
    songs, albums = _total(emulator, "songs"), _total(emulator, "albums")
    emulator.apply_changes(add=3, remove=1, resource="library-songs")
    assert (_total(emulator, "songs"), _total(emulator, "albums")) == (songs + 2, albums)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resource": "recently-added"}, "resource must be one of"),
        ({"add": -1}, "add must be 0 or more"),
        ({"remove": "l.abc"}, "remove must be a count or a list of ids"),
        ({"remove": ["l.nope"]}, "remove: not in library-albums: l.nope"),
        ({"add": ["999999999999"]}, "add: unknown catalog albums: 999999999999"),
        ({"add": ["1"], "resource": "library-artists"}, "has no catalog ids"),
    ],
)
def test_bad_changes_are_refused_before_any_change(
    start_emulator: Callable[..., AppleMusicEmulator], kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(**OPTIONS)
    before = _album_ids(emulator)
    with pytest.raises(ValueError, match=message):
        emulator.apply_changes(**kwargs)
    assert _album_ids(emulator) == before


def test_http_control_path_applies_changes_without_tokens_and_is_not_counted(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(**OPTIONS)
    emulator.reset_stats()
    response = support.post(emulator, "/emulator/changes", authorize=False, json={"add": 2, "remove": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["added"]) == 2 and len(body["removed"]) == 1
    assert set(body["added"]) <= _album_ids(emulator)
    assert emulator.stats.requests == 0

    refused = support.post(emulator, "/emulator/changes", authorize=False, json={"add": "x"})
    assert refused.status_code == 400 and "add must be a count" in refused.text
    unknown = support.post(emulator, "/emulator/changes", authorize=False, json={"adds": 1})
    assert unknown.status_code == 400 and "adds" in unknown.text
    assert support.request(emulator, "GET", "/emulator/changes", authorize=False).status_code == 405


def test_command_line_changes_a_running_emulator(start_emulator: Callable[..., AppleMusicEmulator]) -> None:
    emulator = start_emulator(**OPTIONS)
    before = _album_ids(emulator)
    done = subprocess.run(
        [*CLI, "--url", emulator.url, "--add", "2", "--remove", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert _album_ids(emulator) == (before - set(answer["removed"])) | set(answer["added"])
    assert len(answer["added"]) == 2

    failed = subprocess.run(
        [*CLI, "--url", emulator.url, "--remove-ids", "l.nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and "l.nope" in failed.stderr


def test_changes_reach_only_the_named_users_library(
    start_emulator: Callable[..., AppleMusicEmulator],
) -> None:
    emulator = start_emulator(albums=20, users=2, seed=9)
    before = [{item["id"] for item in emulator.library_items("library-albums", user=u)} for u in (0, 1)]
    response = support.post(emulator, "/emulator/changes", authorize=False, json={"add": 1, "user": 1})
    assert response.status_code == 200, response.text
    added = response.json()["added"]
    after = [{item["id"] for item in emulator.library_items("library-albums", user=u)} for u in (0, 1)]
    assert after[0] == before[0]
    assert after[1] == before[1] | set(added) and len(added) == 1
    refused = support.post(emulator, "/emulator/changes", authorize=False, json={"add": 1, "user": 2})
    assert refused.status_code == 400 and "user must be" in refused.text
