"""
AppleMusicExportOperator resumed after a failed try: the emulator over sockets, moto's S3 server,
local files. The first try fails for real (a page answers 500 until the retries are spent); the
second goes on from the checkpoint. The task state store is a stand-in with the accessor's
``get``/``set``/``delete`` (values go through JSON, as Airflow's do); the real one, and retries by
the scheduler, are on the deployment tier (``tests/system/deployment/test_export_resume.py``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError, AppleMusicError
from airflow_provider_applemusic.operators.export import AppleMusicExportOperator
from airflow_provider_applemusic.operators.resume import CHECKPOINT_KEY

#: the songs of the library (local files: parts of 256 KiB, about 600 songs each)
LOCAL_SONGS = 6000
#: S3 parts are 5 MiB: about 12,600 songs a part
S3_SONGS = 16000
STRIDE = 99  # pages after the first start one position early: offsets 99, 198, ...
ATTEMPTS = 2
#: a resumed try's requests beyond the pages the checkpoint did not cover, at most
SLACK = 3


class TaskStateStore:
    """The task state store's accessor as an operator sees it (``get``, ``set``, ``delete``)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    def set(self, key: str, value: Any, *, retention: dt.timedelta | None = None) -> None:
        assert value is not None
        self.values[key] = json.dumps(value)

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


@dataclass
class Try:
    """What the context's ``ti`` tells an operator: which try this is."""

    try_number: int


def _start(start_emulator: Any, **options: Any) -> Any:
    emulator = start_emulator(**options)
    connection = emulator.connection_dict()
    connection["extra"].update(max_attempts=ATTEMPTS, max_retry_seconds=1)
    os.environ["AIRFLOW_CONN_APPLE_MUSIC_DEFAULT"] = json.dumps(connection)
    return emulator


def _operator(path: str, retries: int = 2, **kwargs: Any) -> AppleMusicExportOperator:
    kwargs.setdefault("resource", "library-songs")
    return AppleMusicExportOperator(task_id="export", path=path, retries=retries, **kwargs)


def _fail_at_page(emulator: Any, page: int, path: str = "/v1/me/library/songs", stride: int = STRIDE) -> None:
    """The page at index ``page`` answers 500 as often as the hook tries it: the try fails there."""
    emulator.inject("500", count=ATTEMPTS, path_prefix=path, offset=page * stride)


def _records(body: bytes, file_format: str, compression: str | None) -> list[dict[str, Any]]:
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return [json.loads(t) for t in pq.read_table(io.BytesIO(body)).column("resource_json").to_pylist()]
    if compression == "gzip":
        body = gzip.decompress(body)
    if file_format == "json":
        return list(json.loads(body))
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


class _Local:
    songs = LOCAL_SONGS

    def __init__(self, tmp_path: Any) -> None:
        self.folder = tmp_path / "out"
        self.folder.mkdir()

    def uri(self, name: str) -> str:
        return f"file://{self.folder / name}"

    def put(self, name: str, body: bytes) -> None:
        (self.folder / name).write_bytes(body)

    def read(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()

    def leftovers(self, *names: str) -> list[str]:
        return sorted(set(os.listdir(self.folder)) - set(names))


class _S3:
    songs = S3_SONGS

    def __init__(self, client: Any) -> None:
        self.client, self.bucket = client, client.bucket_name

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{name}"

    def put(self, name: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=name, Body=body)

    def read(self, name: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read())

    def leftovers(self, *names: str) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        uploads = self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        return sorted({e["Key"] for e in listed} - set(names)) + [f"upload:{u['Key']}" for u in uploads]


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """Where the file goes: ``local`` (a folder) or ``s3`` (a fresh bucket on moto's server)."""
    if request.param == "local":
        return _Local(tmp_path)
    return _S3(request.getfixturevalue("s3_bucket"))


def _fail_then_resume(
    emulator: Any, store: Any, name: str, fail_page: int, **kwargs: Any
) -> tuple[dict[str, Any], int, int]:
    """
    An uninterrupted export (the reference), then one whose first try fails at ``fail_page``
    and whose second resumes: the checkpoint after the first try, the reference's requests and
    the resumed try's.
    """
    reference_name = f"reference-{name}"
    emulator.reset_stats()
    _operator(store.uri(reference_name), **kwargs).execute({})  # type: ignore[arg-type]
    reference_requests = emulator.stats.requests
    store.put(name, b"the previous export")
    _fail_at_page(emulator, fail_page)
    tasks = TaskStateStore()
    with pytest.raises(AppleMusicError):
        _operator(store.uri(name), **kwargs).execute({"task_state_store": tasks, "ti": Try(1)})  # type: ignore[arg-type]
    assert store.read(name) == b"the previous export", "a failed try touched the target"
    checkpoint = tasks.get(CHECKPOINT_KEY)
    assert checkpoint is not None and checkpoint["mark"] is not None
    emulator.reset_stats()
    _operator(store.uri(name), **kwargs).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    assert tasks.get(CHECKPOINT_KEY) is None, "the checkpoint outlived the export"
    if kwargs.get("compression") in (None, "none") and kwargs.get("file_format", "jsonl") != "parquet":
        # plain JSON is cut anywhere alike; gzip members and row groups may end elsewhere
        assert store.read(name) == store.read(reference_name), "the resumed export differs"
    assert store.leftovers(name, reference_name) == [], "staged parts were left behind"
    return checkpoint, reference_requests, emulator.stats.requests


@pytest.mark.parametrize(
    ("store", "file_format", "compression"),
    [
        ("local", "jsonl", None),
        ("local", "jsonl", "gzip"),
        ("local", "json", "gzip"),
        ("local", "parquet", "snappy"),
        ("local", "parquet", "zstd"),
        # S3 checkpoints with each multipart part (5 MiB): the file must hold one before the failure
        ("s3", "jsonl", None),
        ("s3", "json", None),
        ("s3", "parquet", None),
    ],
    indirect=["store"],
)
def test_a_failed_try_is_resumed_from_its_checkpoint(
    start_emulator: Any, store: Any, file_format: str, compression: str | None
) -> None:
    emulator = _start(start_emulator, songs=store.songs, hidden_every=13)
    pages = -(-store.songs // STRIDE)
    fail_page = pages * 9 // 10
    checkpoint, reference, resumed = _fail_then_resume(
        emulator, store, f"songs.{file_format}", fail_page, file_format=file_format, compression=compression
    )
    covered = checkpoint["mark"]["pager"]["index"]
    # local files keep every page before the failure; S3 keeps whole parts of 5 MiB
    assert covered >= (fail_page if isinstance(store, _Local) else pages // 2), checkpoint["mark"]["pager"]
    assert resumed <= reference - covered + SLACK, (reference, covered, resumed)
    expected = emulator.library_items("library-songs")
    assert _records(store.read(f"songs.{file_format}"), file_format, compression) == expected


def test_positional_playlist_tracks_with_repeats_resume_exactly(start_emulator: Any, tmp_path: Any) -> None:
    emulator = _start(start_emulator, playlists=120, songs=400)
    local = _Local(tmp_path)
    page_size = 10
    kwargs: dict[str, Any] = {
        "resource": "library-playlists",
        "playlist_tracks": True,
        "page_size": page_size,
    }
    _operator(local.uri("reference.jsonl"), **kwargs).execute({})  # type: ignore[arg-type]
    tasks = TaskStateStore()
    emulator.inject("500", count=ATTEMPTS, path_prefix="/v1/me/library/playlists", offset=6 * (page_size - 1))
    with pytest.raises(AppleMusicError):
        _operator(local.uri("playlists.jsonl"), **kwargs).execute({"task_state_store": tasks, "ti": Try(1)})  # type: ignore[arg-type]
    assert tasks.get(CHECKPOINT_KEY)["mark"]["pager"]["index"] == 6
    _operator(local.uri("playlists.jsonl"), **kwargs).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    body = local.read("playlists.jsonl")
    assert body == local.read("reference.jsonl")
    playlists = _records(body, "jsonl", None)
    assert [p["id"] for p in playlists] == [p["id"] for p in emulator.library_items("library-playlists")]
    tracks = [[t["id"] for t in p["relationships"]["tracks"]["data"]] for p in playlists]
    assert any(len(ids) != len(set(ids)) for ids in tracks), "no playlist repeats a song"


def test_the_play_history_resumes_with_its_repeats(start_emulator: Any, tmp_path: Any) -> None:
    emulator = _start(start_emulator, history=50, songs=200)
    local = _Local(tmp_path)
    kwargs: dict[str, Any] = {"resource": "recently-played-tracks", "page_size": 5}
    emulator.reset_stats()
    _operator(local.uri("reference.jsonl"), **kwargs).execute({})  # type: ignore[arg-type]
    reference = emulator.stats.requests
    tasks = TaskStateStore()
    emulator.inject("500", count=ATTEMPTS, path_prefix="/v1/me/recent/played/tracks", offset=4 * 4)
    with pytest.raises(AppleMusicError):
        _operator(local.uri("history.jsonl"), **kwargs).execute({"task_state_store": tasks, "ti": Try(1)})  # type: ignore[arg-type]
    assert tasks.get(CHECKPOINT_KEY)["mark"]["pager"]["index"] == 4
    emulator.reset_stats()
    _operator(local.uri("history.jsonl"), **kwargs).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    entries = _records(local.read("history.jsonl"), "jsonl", None)
    expected = emulator.library_items("recently-played-tracks")
    assert [e["id"] for e in entries] == [e["id"] for e in expected]
    assert local.read("history.jsonl") == local.read("reference.jsonl")
    assert emulator.stats.requests <= reference - 4 + SLACK


def _fail_once(
    emulator: Any, local: _Local, tasks: TaskStateStore, name: str, **kwargs: Any
) -> dict[str, Any]:
    """A first try that fails at page 40 of the songs; its checkpoint and staged folder."""
    _fail_at_page(emulator, 40)
    with pytest.raises(AppleMusicError):
        _operator(local.uri(name), **kwargs).execute({"task_state_store": tasks, "ti": Try(1)})  # type: ignore[arg-type]
    checkpoint = tasks.get(CHECKPOINT_KEY)
    assert checkpoint["mark"]["pager"]["index"] == 40
    staged = local.leftovers(name)
    assert len(staged) == 1 and ".applemusic-staged-" in staged[0], staged
    return dict(checkpoint)


def test_changed_arguments_start_over_say_why_and_discard_the_staged_parts(
    start_emulator: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = _start(start_emulator, songs=LOCAL_SONGS)
    local, tasks = _Local(tmp_path), TaskStateStore()
    _fail_once(emulator, local, tasks, "songs.jsonl")
    emulator.reset_stats()
    capsys.readouterr()
    _operator(local.uri("songs.jsonl"), page_size=80).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "Not resuming the export of try 1: the arguments changed since (page_size); starting over" in out
    assert "Discarded the parts staged by try 1" in out
    assert emulator.stats.requests >= LOCAL_SONGS // 80, "the new try did not fetch everything"
    assert local.leftovers("songs.jsonl") == []
    assert _records(local.read("songs.jsonl"), "jsonl", None) == emulator.library_items("library-songs")
    assert tasks.get(CHECKPOINT_KEY) is None


@pytest.mark.parametrize("resume_within", [dt.timedelta(hours=24), "3600", 0])
def test_a_stale_checkpoint_starts_over(
    start_emulator: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str], resume_within: Any
) -> None:
    emulator = _start(start_emulator, songs=LOCAL_SONGS)
    local, tasks = _Local(tmp_path), TaskStateStore()
    checkpoint = _fail_once(emulator, local, tasks, "songs.jsonl", resume_within=resume_within)
    saved_at = dt.datetime.fromisoformat(checkpoint["saved_at"]) - dt.timedelta(hours=25)
    tasks.set(CHECKPOINT_KEY, {**checkpoint, "saved_at": saved_at.isoformat()})
    emulator.reset_stats()
    capsys.readouterr()
    _operator(local.uri("songs.jsonl"), resume_within=resume_within).execute(
        {"task_state_store": tasks, "ti": Try(2)}  # type: ignore[arg-type]
    )
    out = capsys.readouterr().out
    reason = "resume_within is 0" if resume_within == 0 else "old, older than resume_within"
    assert reason in out and "starting over" in out
    assert emulator.stats.requests >= LOCAL_SONGS // STRIDE
    assert local.leftovers("songs.jsonl") == []
    assert _records(local.read("songs.jsonl"), "jsonl", None) == emulator.library_items("library-songs")


def test_a_fresh_checkpoint_within_resume_within_is_resumed(start_emulator: Any, tmp_path: Any) -> None:
    emulator = _start(start_emulator, songs=LOCAL_SONGS)
    local, tasks = _Local(tmp_path), TaskStateStore()
    checkpoint = _fail_once(emulator, local, tasks, "songs.jsonl", resume_within="7200")
    saved_at = dt.datetime.fromisoformat(checkpoint["saved_at"]) - dt.timedelta(hours=1)
    tasks.set(CHECKPOINT_KEY, {**checkpoint, "saved_at": saved_at.isoformat()})
    emulator.reset_stats()
    operator = _operator(local.uri("songs.jsonl"), resume_within="{{ 2 * 3600 }}")
    operator.resume_within = "7200"  # as Airflow renders the template
    operator.execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    assert emulator.stats.requests <= -(-LOCAL_SONGS // STRIDE) - 40 + SLACK
    assert _records(local.read("songs.jsonl"), "jsonl", None) == emulator.library_items("library-songs")


@pytest.mark.parametrize("store", ["local", "s3"], indirect=True)
def test_the_last_try_leaves_nothing_staged_and_the_previous_file_untouched(
    start_emulator: Any, store: Any
) -> None:
    emulator = _start(start_emulator, songs=store.songs)
    store.put("songs.jsonl", b"the previous export")
    tasks = TaskStateStore()
    _fail_at_page(emulator, store.songs // STRIDE * 9 // 10)
    with pytest.raises(AppleMusicError):
        _operator(store.uri("songs.jsonl"), retries=1).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    assert tasks.get(CHECKPOINT_KEY) is None
    assert store.read("songs.jsonl") == b"the previous export"
    assert store.leftovers("songs.jsonl") == []


def test_without_a_task_state_store_a_failure_leaves_nothing_behind(
    start_emulator: Any, tmp_path: Any
) -> None:
    emulator = _start(start_emulator, songs=LOCAL_SONGS)
    local = _Local(tmp_path)
    _fail_at_page(emulator, 40)
    with pytest.raises(AppleMusicError):
        _operator(local.uri("songs.jsonl")).execute({})  # type: ignore[arg-type]
    assert local.leftovers() == []


@pytest.mark.parametrize("bad", [-1, "soon", True, float("nan"), [1]])
def test_a_bad_resume_within_is_refused_before_any_request(
    start_emulator: Any, tmp_path: Any, bad: Any
) -> None:
    emulator = _start(start_emulator, songs=50)
    with pytest.raises(
        AppleMusicConfigError, match="resume_within must be a timedelta or a number of seconds"
    ):
        _operator(f"file://{tmp_path}/songs.jsonl", resume_within=bad)
    operator = _operator(f"file://{tmp_path}/songs.jsonl", resume_within="{{ params.window }}")
    operator.resume_within = str(bad)  # rendered
    with pytest.raises(AppleMusicConfigError, match="resume_within"):
        operator.execute({"task_state_store": TaskStateStore(), "ti": Try(1)})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0
    assert os.listdir(tmp_path) == []


def test_a_revoked_token_fails_the_try_and_the_replaced_one_resumes(
    start_emulator: Any, tmp_path: Any
) -> None:
    import threading
    import time

    emulator = _start(start_emulator, songs=LOCAL_SONGS, latency_ms=5)
    local, tasks = _Local(tmp_path), TaskStateStore()
    emulator.reset_stats()
    _operator(local.uri("reference.jsonl")).execute({})  # type: ignore[arg-type]
    reference = emulator.stats.requests
    emulator.reset_stats()

    def revoke_half_way() -> None:
        while emulator.stats.requests < reference // 2:
            time.sleep(0.002)
        emulator.revoke_user_token()

    watcher = threading.Thread(target=revoke_half_way, daemon=True)
    watcher.start()
    with pytest.raises(AppleMusicError, match="Music User Token"):
        _operator(local.uri("songs.jsonl")).execute({"task_state_store": tasks, "ti": Try(1)})  # type: ignore[arg-type]
    watcher.join()
    covered = tasks.get(CHECKPOINT_KEY)["mark"]["pager"]["index"]
    assert covered >= reference // 4
    emulator.revoke_user_token(False)  # the user signed in again: a new token in the connection
    emulator.reset_stats()
    _operator(local.uri("songs.jsonl")).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    assert emulator.stats.requests <= reference - covered + SLACK
    assert local.read("songs.jsonl") == local.read("reference.jsonl")
    assert local.leftovers("songs.jsonl", "reference.jsonl") == []


def test_a_resumed_last_try_that_fails_on_its_first_page_discards_the_staged_parts(
    start_emulator: Any, tmp_path: Any
) -> None:
    emulator = _start(start_emulator, songs=LOCAL_SONGS)
    local, tasks = _Local(tmp_path), TaskStateStore()
    checkpoint = _fail_once(emulator, local, tasks, "songs.jsonl")
    _fail_at_page(emulator, checkpoint["mark"]["pager"]["index"])
    with pytest.raises(AppleMusicError):
        _operator(local.uri("songs.jsonl"), retries=1).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    assert tasks.get(CHECKPOINT_KEY) is None
    assert local.leftovers() == []


def test_a_refused_part_upload_is_resumed_from_the_parts_before_it(
    start_emulator: Any, s3_bucket: Any, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.reliability.s3_fault_proxy import S3FaultProxy

    emulator = _start(
        start_emulator, songs=S3_SONGS * 2
    )  # about 13 MB: parts 1 and 2 of 5 MiB, then the tail
    s3 = _S3(s3_bucket)
    _operator(s3.uri("reference.jsonl")).execute({})  # type: ignore[arg-type]
    s3.put("songs.jsonl", b"the previous export")
    tasks = TaskStateStore()
    with S3FaultProxy(s3_server) as proxy:
        monkeypatch.setenv(
            "AIRFLOW_CONN_AWS_DEFAULT",
            json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": proxy.url, "region_name": "us-east-1"}}
            ),
        )
        proxy.refuse_parts = {2}
        with pytest.raises(Exception, match=r"InternalError|UploadPart"):
            _operator(s3.uri("songs.jsonl")).execute({"task_state_store": tasks, "ti": Try(1)})  # type: ignore[arg-type]
        assert proxy.refused >= 1
        assert s3.read("songs.jsonl") == b"the previous export"
        checkpoint = tasks.get(CHECKPOINT_KEY)
        assert [part[0] for part in checkpoint["stage"]["parts"]] == [1], (
            "a part after the refused one counted"
        )
        proxy.refuse_parts = set()
        emulator.reset_stats()
        _operator(s3.uri("songs.jsonl")).execute({"task_state_store": tasks, "ti": Try(2)})  # type: ignore[arg-type]
    covered = checkpoint["mark"]["pager"]["index"]
    assert covered > 0
    assert emulator.stats.requests <= -(-(S3_SONGS * 2 - 100) // STRIDE) + 1 - covered + SLACK
    assert s3.read("songs.jsonl") == s3.read("reference.jsonl")
    assert s3.leftovers("songs.jsonl", "reference.jsonl") == []


def test_an_enriched_parquet_export_resumes_with_its_catalog_and_rating_columns(
    start_emulator: Any, tmp_path: Any
) -> None:
    import pyarrow.parquet as pq

    emulator = _start(start_emulator, songs=LOCAL_SONGS, hidden_every=13)
    local = _Local(tmp_path)
    kwargs: dict[str, Any] = {"file_format": "parquet", "enrich": ["catalog", "ratings"]}
    fail_page = 40
    checkpoint, reference, resumed = _fail_then_resume(emulator, local, "songs.parquet", fail_page, **kwargs)
    # up to 4 pages wait for their look-ups: those before the failure may not be staged yet
    assert checkpoint["mark"]["pager"]["index"] >= fail_page - 4
    # the resumed try looks up only what it had not written: fewer requests than the whole export
    assert resumed < reference - fail_page // 2, (reference, resumed)
    whole = pq.read_table(local.uri("reference-songs.parquet").removeprefix("file://")).to_pylist()
    got = pq.read_table(local.uri("songs.parquet").removeprefix("file://")).to_pylist()
    assert got == whole
    assert {"isrc", "catalog_status", "rating"} <= set(got[0])
    assert {row["catalog_status"] for row in got} >= {"ok", "none"}
