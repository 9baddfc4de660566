"""
The example DAGs on a real Airflow deployment, driven through ``/api/v2`` and the CLI.

All runs are started at once by the ``launched`` fixture (the deployment works on them in
parallel); each test then waits for the runs it looks at. The last test stops the deployment and
checks that nothing it started is left.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.api.dates import date_added
from tests.system.deployment.conftest import (
    BUCKET,
    PATIENCE_SECONDS,
    ROOT,
    WATCH_POLL_SECONDS,
    Deployment,
    accepts_connections,
    session_processes,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

EXPORT = "applemusic_library_export"
ADD_AND_WAIT = "applemusic_add_and_wait"
CONSUMER = "applemusic_snapshot_consumer"
HOOK_EXAMPLE = "applemusic_hook_example"
SOFT_FAIL = "deployment_wait_unknown_soft_fail"
FAIL = "deployment_wait_unknown_fail"
UNKNOWN_ID = "999999999"
WAIT_TASK = "wait_until_in_library"
#: the backfill: its dates are the logical dates, the days exported
BACKFILL_FROM, BACKFILL_TO = "2024-03-01", "2024-03-03"
BACKFILL_DAYS = ["2024-03-01", "2024-03-02", "2024-03-03"]
#: the day of the run triggered with a logical date
LOGICAL_DAY = "2024-03-10"
#: seconds before the emulator shows added items: the sensor has to defer
ADD_DELAY_SECONDS = 20.0
ADDED_NOW = 3
DAY = dt.timedelta(days=1)
MANY_USERS = "applemusic_many_users_export"
#: the tier's small scale-out: users of one developer key, albums each
MANY_USERS_COUNT, MANY_USERS_ALBUMS = 8, 600

pytestmark = pytest.mark.deployment


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _albums_added(deployment: Deployment, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Ids of the emulator's library albums added in [start, end), in the API's order."""
    return [
        album["id"]
        for album in deployment.emulator.library()
        if (added := date_added(album)) is not None and start <= added < end
    ]


def _exported_ids(deployment: Deployment, key: str) -> list[str]:
    return [json.loads(line)["id"] for line in deployment.read_object(key).splitlines()]


@dataclass
class SensorWatch:
    """What a poller saw of the add-and-wait sensor while its run went on."""

    states: list[str | None] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None


@dataclass
class Launched:
    """The runs started for the tier, by what they are for."""

    readme_backfills: list[str]
    dry_runs: list[str]
    backfill_output: str
    logical_date_run: dict[str, Any]
    manual_run: dict[str, Any]
    added_now: list[str]
    add_and_wait_run: dict[str, Any]
    soft_fail_run: dict[str, Any]
    fail_run: dict[str, Any]
    hook_example_run: dict[str, Any]
    watch: SensorWatch
    watcher: threading.Thread


def _watch_sensor(deployment: Deployment, run_id: str, watch: SensorWatch) -> None:
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while time.monotonic() < deadline:
            ti = deployment.task_instance(ADD_AND_WAIT, run_id, WAIT_TASK)
            watch.states.append(ti["state"])
            if ti.get("trigger"):
                watch.triggers.append({**ti["trigger"], "triggerer_job": ti.get("triggerer_job")})
            if ti["state"] in ("success", "failed", "skipped", "upstream_failed"):
                return
            time.sleep(0.3)
    except BaseException as err:  # noqa: BLE001 - reported by the test that reads the watch
        watch.error = err


def _add_albums_now(deployment: Deployment, count: int) -> list[str]:
    """Add catalog albums to the emulator's library at once (a user adding albums on a phone)."""
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    emulator = deployment.emulator
    ids = emulator.catalog_ids("albums")[-count:]
    os.environ["AIRFLOW_CONN_APPLE_MUSIC_DEPLOYMENT_USER"] = emulator.connection_json()
    emulator.add_delay = 0
    try:
        AppleMusicHook("apple_music_deployment_user").add_to_library({"albums": ids})
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not set(ids) <= set(emulator.library_ids("albums")):
            assert time.monotonic() < deadline, "the emulator never showed the added albums"
            time.sleep(0.1)
    finally:
        emulator.add_delay = ADD_DELAY_SECONDS
        os.environ.pop("AIRFLOW_CONN_APPLE_MUSIC_DEPLOYMENT_USER", None)
    return [emulator.library_ids("albums")[cid] for cid in ids]


@pytest.fixture(scope="module")
def launched(deployment: Deployment) -> Iterator[Launched]:
    """Start every run the tier looks at, at once."""
    deployment.wait_for_dags(EXPORT, ADD_AND_WAIT, CONSUMER, HOOK_EXAMPLE, SOFT_FAIL, FAIL)
    assert UNKNOWN_ID not in deployment.emulator.catalog_ids("albums")
    assert UNKNOWN_ID not in deployment.emulator.catalog_ids("albums", in_library=True)
    # the backfills of docs/daily-exports.md, listed before any run exists (a dry run leaves out
    # taken days)
    page = (ROOT / "docs" / "daily-exports.md").read_text(encoding="utf-8")
    readme_backfills = re.findall(rf"airflow backfill create --dag-id {EXPORT}[^\n`]*", page)
    dry_runs = [deployment.cli(*command.split()[1:], "--dry-run") for command in readme_backfills]
    backfill_output = deployment.cli(
        "backfill", "create", "--dag-id", EXPORT, "--from-date", BACKFILL_FROM, "--to-date", BACKFILL_TO
    )
    deployment.cli("dags", "trigger", EXPORT, "--logical-date", LOGICAL_DAY)
    added_now = _add_albums_now(deployment, ADDED_NOW)
    # the UI's Trigger button: no logical date
    manual_run = deployment.trigger(EXPORT)
    add_and_wait_run = deployment.trigger(ADD_AND_WAIT)  # the DAG's default ids
    watch = SensorWatch()
    watcher = threading.Thread(
        target=_watch_sensor, args=(deployment, add_and_wait_run["dag_run_id"], watch), daemon=True
    )
    watcher.start()
    soft_fail_run = deployment.trigger(SOFT_FAIL)
    fail_run = deployment.trigger(FAIL)
    hook_example_run = deployment.trigger(HOOK_EXAMPLE)
    logical_date_run = next(
        run
        for run in deployment.runs(EXPORT)
        if run["logical_date"] and run["logical_date"][:10] == LOGICAL_DAY
    )
    yield Launched(
        readme_backfills=readme_backfills,
        dry_runs=dry_runs,
        backfill_output=backfill_output,
        logical_date_run=logical_date_run,
        manual_run=manual_run,
        added_now=added_now,
        add_and_wait_run=add_and_wait_run,
        soft_fail_run=soft_fail_run,
        fail_run=fail_run,
        hook_example_run=hook_example_run,
        watch=watch,
        watcher=watcher,
    )


def _backfill_runs(deployment: Deployment) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        runs = {
            run["logical_date"][:10]: run for run in deployment.runs(EXPORT) if run["run_type"] == "backfill"
        }
        if len(runs) >= len(BACKFILL_DAYS):
            return runs
        assert time.monotonic() < deadline, f"backfill runs never all appeared: {sorted(runs)}"
        time.sleep(1)


def test_components_listen_on_loopback_only(deployment: Deployment, launched: Launched) -> None:
    import psutil

    listening = set()
    for process in session_processes(deployment.sessions):
        with contextlib.suppress(psutil.Error):
            for conn in process.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    listening.add((conn.laddr.ip, conn.laddr.port))
    assert ("127.0.0.1", deployment.api_port) in listening
    # no log server (--skip-serve-logs) nor anything else on other interfaces
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening


def test_backfill_exports_each_day_exactly_the_albums_added_that_day(
    deployment: Deployment, launched: Launched
) -> None:
    runs = _backfill_runs(deployment)
    assert sorted(runs) == BACKFILL_DAYS, launched.backfill_output
    for day in BACKFILL_DAYS:
        run = deployment.wait_for_run(EXPORT, runs[day]["dag_run_id"])
        assert run["state"] == "success", deployment.task_states(EXPORT, run["dag_run_id"])
        start = _instant(day + "T00:00:00+00:00")
        expected = _albums_added(deployment, start, start + DAY)
        assert expected, f"the emulator has no album added on {day}: pick other days"
        assert _exported_ids(deployment, f"albums/added/{day}.jsonl") == expected


def test_backfill_skips_the_snapshot_saying_why(deployment: Deployment, launched: Launched) -> None:
    runs = _backfill_runs(deployment)
    for day in BACKFILL_DAYS:
        run_id = deployment.wait_for_run(EXPORT, runs[day]["dag_run_id"])["dag_run_id"]
        assert deployment.task_states(EXPORT, run_id)["export_snapshot"] == "skipped"
        assert "a snapshot is of the library now" in deployment.task_log(EXPORT, run_id, "export_snapshot")


def test_run_with_a_logical_date_exports_that_day(deployment: Deployment, launched: Launched) -> None:
    run = deployment.wait_for_run(EXPORT, launched.logical_date_run["dag_run_id"])
    assert run["state"] == "success", deployment.task_states(EXPORT, run["dag_run_id"])
    start = _instant(LOGICAL_DAY + "T00:00:00+00:00")
    expected = _albums_added(deployment, start, start + DAY)
    assert expected
    assert _exported_ids(deployment, f"albums/added/{LOGICAL_DAY}.jsonl") == expected
    result = deployment.xcom(EXPORT, run["dag_run_id"], "export_additions")
    assert result["s3_uri"] == f"s3://{BUCKET}/albums/added/{LOGICAL_DAY}.jsonl"


def test_run_without_a_logical_date_exports_the_day_before_it_to_its_own_file(
    deployment: Deployment, launched: Launched
) -> None:
    run = deployment.wait_for_run(EXPORT, launched.manual_run["dag_run_id"])
    assert run["logical_date"] is None
    assert run["state"] == "success", deployment.task_states(EXPORT, run["dag_run_id"])
    run_after = _instant(run["run_after"])
    expected = _albums_added(deployment, run_after - DAY, run_after)
    assert set(launched.added_now) <= set(expected)
    key = f"albums/added/manual/{run['dag_run_id']}.jsonl"
    assert _exported_ids(deployment, key) == expected
    others = [r for r in deployment.runs(EXPORT) if r["dag_run_id"] != run["dag_run_id"]]
    assert all(key not in json.dumps(r) for r in others)


def test_readme_march_backfill_exports_march(deployment: Deployment, launched: Launched) -> None:
    assert launched.readme_backfills, "docs/daily-exports.md shows no backfill of the export"
    march = [f"2024-03-{day:02d}" for day in range(1, 32)]
    for command, output in zip(launched.readme_backfills, launched.dry_runs, strict=True):
        # the dry run's table: one row per run, its logical date first (the day it exports)
        logical_dates = re.findall(r"^\| (\d{4}-\d\d-\d\d) 00:00:00\+00:00 \|", output, re.M)
        assert logical_dates == march, f"{command}:\n{output[-3000:]}"


def test_add_and_wait_defers_to_the_triggerer_and_succeeds(
    deployment: Deployment, launched: Launched
) -> None:
    run = deployment.wait_for_run(ADD_AND_WAIT, launched.add_and_wait_run["dag_run_id"])
    launched.watcher.join(timeout=PATIENCE_SECONDS)
    watch = launched.watch
    assert watch.error is None, watch.error
    assert "deferred" in watch.states, watch.states
    assert watch.triggers, "no trigger row was seen for the deferred sensor"
    assert all(t["classpath"].endswith(".LibraryItemsTrigger") for t in watch.triggers), watch.triggers
    # the triggerer took the trigger row, and the trigger's log lines went to the task's log
    assert any(t["triggerer_id"] is not None for t in watch.triggers), watch.triggers
    trigger_logs = list(
        (deployment.home / "logs" / f"dag_id={ADD_AND_WAIT}" / f"run_id={run['dag_run_id']}").rglob(
            "*.trigger.*"
        )
    )
    assert trigger_logs, "no trigger log for the sensor"
    # the triggerer writes its log lines on its own schedule: wait for the line, not for a moment
    deadline = time.monotonic() + PATIENCE_SECONDS
    while "Not in the library yet" not in trigger_logs[0].read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, "the trigger's log never said 'Not in the library yet'"
        time.sleep(0.5)
    assert run["state"] == "success", deployment.task_states(ADD_AND_WAIT, run["dag_run_id"])
    library = deployment.emulator.library_ids("albums")
    defaults = {"albums": ["9181209814", "7105094684"]}
    found = deployment.xcom(ADD_AND_WAIT, run["dag_run_id"], WAIT_TASK)
    assert found == {"albums": {cid: library[cid] for cid in defaults["albums"]}}
    log = deployment.task_log(ADD_AND_WAIT, run["dag_run_id"], WAIT_TASK)
    assert "All items are in the library" in log


def test_soft_fail_skip_names_the_missing_ids(deployment: Deployment, launched: Launched) -> None:
    run = deployment.wait_for_run(SOFT_FAIL, launched.soft_fail_run["dag_run_id"])
    assert deployment.task_states(SOFT_FAIL, run["dag_run_id"])[WAIT_TASK] == "skipped"
    log = deployment.task_log(SOFT_FAIL, run["dag_run_id"], WAIT_TASK)
    assert re.search(r"Skipping task.*never appeared in the library.*999999999", log), log[-3000:]


def test_timeout_failure_names_the_missing_ids(deployment: Deployment, launched: Launched) -> None:
    run = deployment.wait_for_run(FAIL, launched.fail_run["dag_run_id"])
    assert run["state"] == "failed"
    assert deployment.task_states(FAIL, run["dag_run_id"])[WAIT_TASK] == "failed"
    log = deployment.task_log(FAIL, run["dag_run_id"], WAIT_TASK)
    assert re.search(r"never appeared in the library.*999999999", log), log[-3000:]


def test_snapshot_events_say_where_the_snapshot_is_and_the_consumer_opens_it(
    deployment: Deployment, launched: Launched
) -> None:
    run = deployment.wait_for_run(EXPORT, launched.manual_run["dag_run_id"])
    snapshot = deployment.xcom(EXPORT, run["dag_run_id"], "export_snapshot")
    events = deployment.get("/assets/events", source_dag_id=EXPORT, source_run_id=run["dag_run_id"])
    assert [e["source_task_id"] for e in events["asset_events"]] == ["export_snapshot"]
    event = events["asset_events"][0]
    assert event["uri"] == "applemusic://library/albums/snapshot"
    assert event["extra"] == {
        "uri": snapshot["s3_uri"],
        "resource": "library-albums",
        "count": snapshot["album_count"],
        "bytes": snapshot["bytes"],
        "format": "jsonl",
        "compression": "gzip",
    }
    key = snapshot["s3_uri"].removeprefix(f"s3://{BUCKET}/")
    assert re.fullmatch(r"albums/snapshot/\d{4}-\d\d-\d\dT\d{6}Z\.jsonl\.gz", key)
    lines = gzip.decompress(deployment.read_object(key)).splitlines()
    assert len(lines) == snapshot["album_count"] > 0

    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        opened = []
        for consumer_run in deployment.runs(CONSUMER):
            if consumer_run["state"] == "success":
                opened += deployment.xcom(CONSUMER, consumer_run["dag_run_id"], "read_snapshot")
        if any(item["uri"] == snapshot["s3_uri"] for item in opened):
            break
        assert time.monotonic() < deadline, f"no consumer run opened {snapshot['s3_uri']}: {opened}"
        time.sleep(1)
    mine = next(item for item in opened if item["uri"] == snapshot["s3_uri"])
    assert mine == {
        "uri": snapshot["s3_uri"],
        "albums": snapshot["album_count"],
        "count": snapshot["album_count"],
    }


def test_readme_hook_example_runs_in_a_task_with_the_connection_in_the_database(
    deployment: Deployment, launched: Launched
) -> None:
    run = deployment.wait_for_run(HOOK_EXAMPLE, launched.hook_example_run["dag_run_id"])
    assert run["state"] == "success", deployment.task_log(HOOK_EXAMPLE, run["dag_run_id"], "use_the_hook")
    assert deployment.api("GET", "/connections/apple_music_default").status_code == 200
    assert "AIRFLOW_CONN_APPLE_MUSIC_DEFAULT" not in deployment.env


def _key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


@pytest.mark.parametrize(
    ("change", "ok", "says"),
    [
        ({}, True, "Music User Token accepted"),
        ({"password": "other key"}, False, "developer token refused"),
        ({"music_user_token": "emu.not-the-users-token"}, False, "Music User Token refused"),
    ],
    ids=["good", "refused-developer-token", "refused-user-token"],
)
def test_connection_test_button(deployment: Deployment, change: dict[str, str], ok: bool, says: str) -> None:
    connection = deployment.emulator.connection_dict()
    extra = dict(connection["extra"])
    if "music_user_token" in change:
        extra["music_user_token"] = change["music_user_token"]
    body = {
        "connection_id": "apple_music_probe",
        "conn_type": "apple_music",
        "host": connection["host"],
        "login": connection["login"],
        "password": _key_pem() if "password" in change else connection["password"],
        "extra": json.dumps(extra),
    }
    response = deployment.api("POST", "/connections/test", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] is ok, result
    assert says in result["message"], result
    for secret in (connection["password"], extra["music_user_token"], body["password"]):
        assert secret not in result["message"]


def _secrets(deployment: Deployment) -> list[str]:
    emulator = deployment.emulator
    key_lines = [line for line in emulator.private_key_pem.splitlines() if "-----" not in line and line]
    return [*key_lines, emulator.user_token]


JWT = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}")


def test_task_logs_hold_no_secret(deployment: Deployment, launched: Launched) -> None:
    for dag_id, run in [
        (ADD_AND_WAIT, launched.add_and_wait_run),
        (SOFT_FAIL, launched.soft_fail_run),
        (FAIL, launched.fail_run),
        (EXPORT, launched.manual_run),
        (HOOK_EXAMPLE, launched.hook_example_run),
    ]:
        deployment.wait_for_run(dag_id, run["dag_run_id"])
    log_files = [p for p in (deployment.home / "logs").rglob("*") if p.is_file()]
    task_logs = [p for p in log_files if "dag_id=" in str(p)]
    assert len({p.parts[-4] for p in task_logs if "dag_id=" in p.parts[-4]}) >= 4, task_logs
    assert any(".trigger." in p.name for p in task_logs), "no trigger log was written"
    for path in [*log_files, *(deployment.home / "components").glob("*.log")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in _secrets(deployment):
            assert secret not in text, f"a secret in {path}"
        if path in task_logs:
            assert not JWT.search(text), f"a token in {path}"


SONGS_PARQUET = "deployment_export_songs_parquet"
MIGRATE = "applemusic_migrate_playlist"


def test_songs_export_to_parquet_on_the_deployment(deployment: Deployment) -> None:
    import io

    import pyarrow.parquet as pq

    deployment.wait_for_dags(SONGS_PARQUET)
    run = deployment.trigger(SONGS_PARQUET)
    done = deployment.wait_for_run(SONGS_PARQUET, run["dag_run_id"])
    assert done["state"] == "success", deployment.task_log(SONGS_PARQUET, run["dag_run_id"], "songs")
    result = deployment.xcom(SONGS_PARQUET, run["dag_run_id"], "songs")
    songs = deployment.emulator.library_items("library-songs")
    assert result["resource"] == "library-songs" and result["count"] == len(songs) > 0
    assert (result["format"], result["compression"]) == ("parquet", "zstd")
    body = deployment.read_object(result["uri"].removeprefix(f"s3://{BUCKET}/"))
    assert len(body) == result["bytes"]
    table = pq.read_table(io.BytesIO(body))
    assert [json.loads(text) for text in table.column("resource_json").to_pylist()] == songs


def test_migrate_playlist_example_twice_builds_one_playlist(deployment: Deployment) -> None:
    emulator = deployment.emulator
    deployment.wait_for_dags(MIGRATE)
    isrcs = emulator.isrcs(ambiguous=False)[:6]
    csv = deployment.home / "road-trip.csv"
    csv.write_text("isrc,title\n" + "".join(f"{code},song {n}\n" for n, code in enumerate(isrcs)))
    conf = {"csv": f"file://{csv}", "name": "Deployment road trip"}
    results = []
    for _ in range(2):
        run = deployment.trigger(MIGRATE, conf=conf)
        done = deployment.wait_for_run(MIGRATE, run["dag_run_id"])
        assert done["state"] == "success", deployment.task_log(MIGRATE, run["dag_run_id"], "build_playlist")
        results.append(deployment.xcom(MIGRATE, run["dag_run_id"], "build_playlist"))
    first, second = results
    assert first["created"] is True
    assert second == {"playlist_id": first["playlist_id"], "created": False, "appended": 0}
    mine = [p for p in emulator.created_playlists() if p["name"] == "Deployment road trip"]
    assert len(mine) == 1
    assert emulator.playlist_tracks(first["playlist_id"]) == [emulator.songs_for_isrc(c)[0] for c in isrcs]


def test_a_retried_create_task_reuses_the_playlist_its_first_try_created(deployment: Deployment) -> None:
    emulator = deployment.emulator
    deployment.wait_for_dags("deployment_playlist_retry")
    songs = emulator.catalog_ids("songs")[:3]
    emulator.playlist_delay = 5.0  # longer than the task's appearance_timeout (2 s)
    try:
        run = deployment.trigger("deployment_playlist_retry", conf={"songs": songs})
        done = deployment.wait_for_run("deployment_playlist_retry", run["dag_run_id"])
    finally:
        emulator.playlist_delay = 2.0
    log = deployment.task_log("deployment_playlist_retry", run["dag_run_id"], "create")
    assert done["state"] == "success", log
    ti = deployment.task_instance("deployment_playlist_retry", run["dag_run_id"], "create")
    assert ti["try_number"] >= 2, "the first try did not fail: the retry was not exercised"
    result = deployment.xcom("deployment_playlist_retry", run["dag_run_id"], "create")
    assert result["created"] is False, "the last try should have reused the playlist, not created one"
    mine = [p for p in emulator.created_playlists() if p["name"] == "Retried playlist"]
    assert [p["id"] for p in mine] == [result["playlist_id"]]
    assert emulator.playlist_tracks(result["playlist_id"]) == songs
    assert "created by an earlier try of this task" in log


MANY_SENSORS = "deployment_many_sensors"
#: mapped sensors of the many-sensors run, each waiting on one album
MANY = 30


def test_many_deferred_sensors_share_one_lookup_a_round_on_the_triggerer(deployment: Deployment) -> None:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    emulator = deployment.emulator
    albums = emulator.catalog_ids("albums")[40 : 40 + MANY]
    deployment.wait_for_dags(MANY_SENSORS)
    run = deployment.trigger(MANY_SENSORS, conf={"albums": albums})
    run_id = run["dag_run_id"]
    path = f"/dags/{MANY_SENSORS}/dagRuns/{run_id}/taskInstances"
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:  # every mapped sensor poked once (nothing added yet) and deferred
        states = [ti["state"] for ti in deployment.get(path)["task_instances"] if ti["task_id"] == "wait"]
        if states.count("deferred") == MANY:
            break
        assert "failed" not in states and time.monotonic() < deadline, states
        deployment.check_alive()
        time.sleep(1)
    emulator.reset_stats()
    started = time.monotonic()
    os.environ["AIRFLOW_CONN_APPLE_MUSIC_DEPLOYMENT_USER"] = emulator.connection_json()
    try:
        AppleMusicHook("apple_music_deployment_user").add_to_library({"albums": albums})
    finally:
        os.environ.pop("AIRFLOW_CONN_APPLE_MUSIC_DEPLOYMENT_USER", None)
    finished = deployment.wait_for_run(MANY_SENSORS, run_id)
    elapsed = time.monotonic() - started
    tis = [ti for ti in deployment.get(path)["task_instances"] if ti["task_id"] == "wait"]
    assert finished["state"] == "success" and [ti["state"] for ti in tis] == ["success"] * MANY, tis
    library = emulator.library_ids("albums")
    for ti in tis:  # each sensor returns its own album's library id
        entry = deployment.get(
            f"{path}/wait/xcomEntries/return_value", map_index=ti["map_index"], deserialize="true"
        )
        value = json.loads(entry["value"]) if isinstance(entry["value"], str) else entry["value"]
        cid = albums[ti["map_index"]]
        assert value == {"albums": {cid: library[cid]}}, (ti["map_index"], value)
    # one trigger per sensor, yet one catalog request a round (30 ids fit one request), a round
    # every poke_interval (2 s) at most; unshared, that would be 30 requests every 2 s
    lookups = emulator.stats.paths["/v1/catalog/gb/albums"]
    assert 1 <= lookups <= elapsed / 2 + 2, (lookups, elapsed)
    assert emulator.stats.paths["/v1/me/storefront"] == 0


ON_CHANGE = "applemusic_on_library_change"


def _wait_for_log(deployment: Deployment, component: str, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while deployment.component_log(component).count(text) < count:
        deployment.check_alive()
        assert time.monotonic() < deadline, f"the {component} never logged {text!r}"
        time.sleep(0.5)


def _runs_by_type(deployment: Deployment, dag_id: str) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for run in deployment.runs(dag_id):
        runs.setdefault(run["run_type"], []).append(run)
    return runs


def test_library_watcher_runs_the_dag_once_per_change_and_not_after_a_restart(
    deployment: Deployment,
) -> None:
    emulator = deployment.emulator
    quiet = 3 * WATCH_POLL_SECONDS + 2
    deployment.wait_for_dags(ON_CHANGE)  # unpaused: its asset's watcher is registered on reparse
    deployment.reparse(ON_CHANGE)
    _wait_for_log(deployment, "triggerer", "Baseline of the library taken")
    # the first run, by hand: no snapshot before it, so every album is "added"
    baseline = deployment.trigger(ON_CHANGE)
    done = deployment.wait_for_run(ON_CHANGE, baseline["dag_run_id"])
    assert done["state"] == "success", deployment.task_log(ON_CHANGE, baseline["dag_run_id"], "write_changes")
    first = deployment.xcom(ON_CHANGE, baseline["dag_run_id"], "write_changes")
    assert first["added"] == len(emulator.library_items("library-albums"))

    time.sleep(quiet)  # three polls of an unchanged library: no run
    assert "asset_triggered" not in _runs_by_type(deployment, ON_CHANGE)

    added, removed = emulator.apply_changes(add=2, remove=1)
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not (triggered := _runs_by_type(deployment, ON_CHANGE).get("asset_triggered")):
        assert time.monotonic() < deadline, "the change never started a run"
        time.sleep(1)
    run_id = triggered[0]["dag_run_id"]
    done = deployment.wait_for_run(ON_CHANGE, run_id)
    assert done["state"] == "success", deployment.task_log(ON_CHANGE, run_id, "write_changes")
    result = deployment.xcom(ON_CHANGE, run_id, "write_changes")
    log = deployment.read_object(result["uri"].removeprefix(f"s3://{BUCKET}/"))
    records = [json.loads(line) for line in log.decode().splitlines()]
    assert sorted((r["change"], r["id"]) for r in records) == sorted(
        [("added", added[0]), ("added", added[1]), ("removed", removed[0])]
    )
    assert (result["added"], result["removed"], result["changed"]) == (2, 1, 0)
    time.sleep(quiet)
    assert len(_runs_by_type(deployment, ON_CHANGE)["asset_triggered"]) == 1, "it ran more than once"

    deployment.restart_component("triggerer")
    _wait_for_log(deployment, "triggerer", "from the saved fingerprint")
    time.sleep(quiet)  # the watcher is back, with the fingerprint it saved: no new run
    assert len(_runs_by_type(deployment, ON_CHANGE)["asset_triggered"]) == 1, "it fired again after a restart"
    assert "Baseline of the library taken" not in deployment.component_log("triggerer")
    response = deployment.api("PATCH", f"/dags/{ON_CHANGE}", json={"is_paused": True})
    assert response.status_code == 200, response.text


def test_many_users_on_one_key_export_each_to_its_own_file(deployment: Deployment) -> None:
    """
    The many-users example on LocalExecutor: one mapped export per user connection, all on one
    developer key whose limit the tasks' bursts exceed; every task succeeds at its first try.
    """
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    deployment.wait_for_dags(MANY_USERS)
    with AppleMusicEmulator(
        albums=MANY_USERS_ALBUMS, users=MANY_USERS_COUNT, rate_limit=4, seed=21
    ) as emulator:
        conn_ids = []
        for user in range(MANY_USERS_COUNT):
            conn_id = f"apple_music_tier_user_{user}"
            deployment.add_connection(conn_id, emulator.connection_dict(user))
            conn_ids.append(conn_id)
        run = deployment.trigger(MANY_USERS, conf={"apple_music_conn_ids": conn_ids})
        run_id = run["dag_run_id"]
        done = deployment.wait_for_run(MANY_USERS, run_id)
        tis = deployment.get(f"/dags/{MANY_USERS}/dagRuns/{run_id}/taskInstances")["task_instances"]
        mapped = [ti for ti in tis if ti["task_id"] == "export_user_library"]
        assert done["state"] == "success", [(ti["map_index"], ti["state"]) for ti in mapped]
        assert sorted(ti["rendered_map_index"] for ti in mapped) == conn_ids
        # a try may fail on a busy machine and be retried by the scheduler: what counts is that
        # every mapped export ends in success and writes its user's exact library
        assert all(ti["state"] == "success" for ti in mapped), [
            (ti["map_index"], ti["try_number"]) for ti in mapped
        ]
        for user, conn_id in enumerate(conn_ids):
            body = deployment.read_object(f"library-albums/{run_id}/{conn_id}.jsonl")
            assert [json.loads(line) for line in body.splitlines()] == emulator.library(user=user), conn_id
        assert emulator.stats.statuses[429] > 0, "the key's limit was never reached: no 429 to handle"
        assert set(emulator.stats.users) == set(range(MANY_USERS_COUNT))


def test_stopping_leaves_no_process_and_no_open_port(deployment: Deployment) -> None:
    sessions = deployment.sessions
    assert len(session_processes(sessions)) > len(sessions), "the components' children are not seen"
    assert all(accepts_connections(port) for port in deployment.ports)
    deployment.stop()
    assert session_processes(sessions) == []
    assert all(process.poll() is not None for process in deployment.processes.values())
    assert not any(accepts_connections(port) for port in deployment.ports)
