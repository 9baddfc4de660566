"""
The fault matrix: export, add and wait (poke and deferrable) against each fault of the emulator.

Each case asserts its outcome: success with exactly the expected data, or a clean failure with
a clear message (and, for the export, no partial object and no dangling multipart upload).
``docs/reliability.md`` lists the same cases; a test below keeps the two in step.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicError, AppleMusicUserTokenError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor
from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger
from tests import support

if TYPE_CHECKING:
    from collections.abc import Callable

OPERATIONS = ("export", "add", "wait_poke", "wait_deferrable")


def _inject(kind: str, count: int) -> Callable[[Any], None]:
    return lambda emulator: emulator.inject(kind, count=count)


def _revoke_developer_tokens(emulator: Any) -> None:
    AppleMusicHook().get_storefront()  # the emulator has now seen the cached token
    emulator.revoke_developer_tokens()


def _restart_soon(emulator: Any) -> None:
    emulator.latency_ms = 100  # every operation now lasts well past the restart
    emulator.restart_timer = threading.Timer(0.15, emulator.restart, kwargs={"lose_pending": False})
    emulator.restart_timer.start()


#: case id -> what it does to the emulator before the operation starts
RECOVERABLE: dict[str, Callable[[Any], None]] = {
    "429-storm": _inject("429", 4),
    "5xx-burst": lambda e: (e.inject("500", count=2), e.inject("503", count=1)),
    "dropped-connections": _inject("drop", 3),
    "slower-than-timeout": _inject("slow", 1),
    "truncated-body": _inject("truncate", 2),
    "non-json-body": _inject("not_json", 2),
    "200-without-data": _inject("no_data", 2),
    "developer-token-revoked": _revoke_developer_tokens,
    "emulator-restart": _restart_soon,
}


@pytest.fixture
def emulator(start_emulator: Any, set_connection: Any) -> Any:
    emulator = start_emulator(albums=3000, latency_ms=5, add_delay=0.5)
    fields = emulator.connection_dict()
    fields["extra"]["timeout_seconds"] = 1  # "slower than the timeout" means more than 1 s
    set_connection(**fields)
    return emulator


def _wanted(emulator: Any) -> dict[str, list[str]]:
    return {"albums": emulator.catalog_ids("albums")[:2], "songs": emulator.catalog_ids("songs")[:1]}


def _expected_found(emulator: Any, wanted: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    return {kind: {cid: emulator.library_ids(kind)[cid] for cid in ids} for kind, ids in wanted.items()}


def _run(operation: str, emulator: Any, s3_bucket: Any, wanted: dict[str, list[str]]) -> Any:
    if operation == "export":
        return LibraryAlbumsToS3Operator(
            task_id="export", s3_bucket=s3_bucket.bucket_name, s3_key="matrix.jsonl", page_size=50
        ).execute({})  # type: ignore[arg-type]
    if operation == "add":
        return AddToLibraryOperator(task_id="add", ids=wanted).execute({})  # type: ignore[arg-type]
    if operation == "wait_poke":
        sensor = LibraryItemsSensor(task_id="wait", ids=wanted, poke_interval=0.2, timeout=30)
        return sensor.execute({})  # type: ignore[arg-type]
    trigger = LibraryItemsTrigger(ids=wanted, poll_interval=0.2, deadline=time.time() + 30)

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    return asyncio.run(first())


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("case", list(RECOVERABLE))
def test_recoverable_fault_gives_exact_result(
    emulator: Any, s3_bucket: Any, operation: str, case: str
) -> None:
    wanted = _wanted(emulator)
    if operation.startswith("wait"):
        AppleMusicHook().add_to_library(wanted)
    RECOVERABLE[case](emulator)
    result = _run(operation, emulator, s3_bucket, wanted)
    finished = time.monotonic()
    if case == "emulator-restart":
        emulator.restart_timer.join()
        assert emulator.restarts and emulator.restarts[0] < finished, "the restart came after the run"
    if operation == "export":
        body = s3_bucket.get_object(Bucket=s3_bucket.bucket_name, Key="matrix.jsonl")["Body"].read()
        assert [json.loads(line) for line in body.splitlines()] == emulator.library()
        assert result["album_count"] == len(emulator.library())
    elif operation == "add":
        assert result == wanted
        time.sleep(0.6)
        assert all(cid in emulator.library_ids(kind) for kind, ids in wanted.items() for cid in ids)
    elif operation == "wait_poke":
        assert result == _expected_found(emulator, wanted)
    else:
        assert result == {"status": "success", "found": _expected_found(emulator, wanted)}


def _revoke_after(emulator: Any, requests: int) -> threading.Thread:
    """Revoke the Music User Token as soon as the emulator has seen ``requests`` requests."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while emulator.stats.requests < requests and time.monotonic() < deadline:
            time.sleep(0.001)
        emulator.revoke_user_token()
        emulator.revoked_at = time.monotonic()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


@pytest.mark.parametrize("operation", OPERATIONS)
def test_user_token_refused_mid_run_fails_cleanly(emulator: Any, s3_bucket: Any, operation: str) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    bucket = s3_bucket.bucket_name
    s3_bucket.put_object(Bucket=bucket, Key="matrix.jsonl", Body=b"earlier\n")
    emulator.latency_ms = 50  # every request lasts well past the revocation's poll
    # the export has made a few page requests; add has looked up the storefront; wait has asked once
    watcher = _revoke_after(emulator, requests=3 if operation == "export" else 1)
    wanted = {"albums": ["999999999"]} if operation.startswith("wait") else _wanted(emulator)
    outcome: Any = None
    expected: tuple[type[BaseException], ...] = (AppleMusicUserTokenError, AirflowFailException)
    try:
        outcome = _run(operation, emulator, s3_bucket, wanted)
    except expected as err:
        assert "Music User Token was refused (403)" in str(err)
        assert emulator.user_token not in str(err)
    finished = time.monotonic()
    watcher.join()
    assert emulator.revoked_at < finished, "the revocation came after the run"
    if operation == "wait_deferrable":
        assert outcome is not None and outcome["status"] == "error" and "fatal" not in outcome
    else:
        assert outcome is None, "the run should have failed"
    if operation == "export":
        assert s3_bucket.get_object(Bucket=bucket, Key="matrix.jsonl")["Body"].read() == b"earlier\n"
        assert not s3_bucket.list_multipart_uploads(Bucket=bucket).get("Uploads")
    if operation == "add":
        assert emulator.stats.posts == 0, "nothing may be added once the token is refused"


def test_permanent_fault_fails_within_the_retry_budget(
    start_emulator: Any, set_connection: Any, s3_bucket: Any
) -> None:
    emulator = start_emulator(albums=500)
    fields = emulator.connection_dict()
    fields["extra"].update({"max_attempts": 100, "max_retry_seconds": 3})
    set_connection(**fields)
    emulator.inject("500", count=100_000)
    started = time.monotonic()
    with pytest.raises(AppleMusicError, match="50001"):
        _run("export", emulator, s3_bucket, {})
    assert time.monotonic() - started < 15
    assert "Contents" not in s3_bucket.list_objects_v2(Bucket=s3_bucket.bucket_name)


def test_restart_losing_pending_adds_times_the_wait_out_naming_them(emulator: Any) -> None:
    from airflow.sdk.exceptions import AirflowSensorTimeout

    wanted = {"albums": emulator.catalog_ids("albums")[:1]}
    emulator.add_delay = 5
    AppleMusicHook().add_to_library(wanted)
    emulator.restart(lose_pending=True)
    sensor = LibraryItemsSensor(task_id="wait", ids=wanted, poke_interval=0.2, timeout=1)
    with pytest.raises(AirflowSensorTimeout, match=wanted["albums"][0]):
        sensor.execute({})  # type: ignore[arg-type]


def test_docs_list_every_case() -> None:
    doc = (support.ROOT / "docs" / "reliability.md").read_text()
    for case in [*RECOVERABLE, "user-token-refused", "permanent-fault", "restart-loses-pending-adds"]:
        assert f"`{case}`" in doc, f"docs/reliability.md does not list {case}"
