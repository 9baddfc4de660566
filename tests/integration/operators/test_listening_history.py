"""ListeningHistoryOperator in real DAG runs (``dag.test()``: a real asset state store) over the emulator."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.listening_history import ListeningHistoryOperator

PLAYED = "recently-played-tracks"

DAG_SOURCE = """
import pendulum
from airflow.sdk import DAG, Asset

from airflow_provider_applemusic.operators.listening_history import ListeningHistoryOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    ListeningHistoryOperator(
        task_id="ledger",
        path="{path}",
        file_format="{file_format}",
        ledger=Asset(name="{dag_id}_ledger", uri="{path}"),
    )
"""


def _dag(load_dag: Any, name: str, path: str, file_format: str = "jsonl") -> Any:
    return load_dag(name, DAG_SOURCE.format(dag_id=name, path=path, file_format=file_format))


def _run(dag: Any, when: dt.datetime) -> Any:
    """A manual run due at ``when`` (its run id comes from it: the same ``when`` is the same run)."""
    from airflow.utils.state import DagRunState

    run = dag.test(logical_date=when, run_after=when)
    assert run.state == DagRunState.SUCCESS
    return run


def _rows(root: Any) -> list[dict[str, Any]]:
    rows = []
    for file in sorted(root.rglob("*.jsonl"), key=lambda f: f.stat().st_mtime_ns):
        rows += [json.loads(line) for line in file.read_text().splitlines()]
    return rows


def _keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(row["type"], row["id"]) for row in rows if row["kind"] == "play"]


DAY = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)


def test_first_run_records_the_list_then_a_replay_once(
    start_emulator: Any, load_dag: Any, tmp_path: Any
) -> None:
    from tests.support import xcom_value

    emulator = start_emulator(albums=20, songs=200, history=20)
    history = [(e["type"], e["id"]) for e in emulator.library_items(PLAYED, extend=())]
    dag = _dag(load_dag, "ledger_first", f"file://{tmp_path}/plays")
    run = _run(dag, DAY)
    rows = _rows(tmp_path / "plays")
    assert _keys(rows) == history
    assert all(row["observed_after"] is None and row["source"] == "poll" for row in rows)
    result = xcom_value(run, "ledger")
    assert result["count"] == 20 and result["plays"] == 20
    assert result["uri"].startswith(f"file://{tmp_path}/plays/date=")
    last = history[-1]
    emulator.play(*last)
    _run(dag, DAY + dt.timedelta(minutes=15))
    rows = _rows(tmp_path / "plays")
    assert _keys(rows) == [*history, last]
    assert rows[-1]["observed_after"] is not None
    _run(dag, DAY + dt.timedelta(minutes=30))  # nothing played: nothing written
    assert _keys(_rows(tmp_path / "plays")) == [*history, last]


def test_a_retry_of_the_same_run_rewrites_its_file_and_records_nothing_twice(
    start_emulator: Any, load_dag: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(albums=20, songs=200, history=10)
    root = tmp_path / "plays"
    dag = _dag(load_dag, "ledger_retry", f"file://{root}")
    _run(dag, DAY)
    songs = [s for s in emulator.catalog_ids("songs") if ("songs", s) not in _keys(_rows(root))]
    emulator.play("songs", songs[0])
    _run(dag, DAY + dt.timedelta(minutes=15))
    emulator.play("songs", songs[1])
    _run(dag, DAY + dt.timedelta(minutes=15))  # the same run again (cleared and run: its next try)
    files = sorted(root.rglob("*.jsonl"))
    assert [f.name for f in files] == [
        "manual__2026-11-30T12_00_00_00_00.jsonl",
        "manual__2026-11-30T12_15_00_00_00.jsonl",
    ]
    second = [json.loads(line) for line in files[1].read_text().splitlines()]
    assert _keys(second) == [("songs", songs[1]), ("songs", songs[0])]
    _run(dag, DAY + dt.timedelta(minutes=30))
    assert len(list(root.rglob("*.jsonl"))) == 2
    assert len({row["play_id"] for row in _rows(root)}) == len(_rows(root)) == 12


def test_an_older_order_records_nothing_and_the_replay_is_not_recorded_twice(
    start_emulator: Any, load_dag: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(albums=20, songs=200, history=10)
    root = tmp_path / "plays"
    dag = _dag(load_dag, "ledger_older", f"file://{root}")
    _run(dag, DAY)
    first, second = _keys(_rows(root))[:2]
    emulator.play(*second)  # a replay: second moves to the top
    _run(dag, DAY + dt.timedelta(minutes=15))
    assert _keys(_rows(root))[-1] == second
    # the service shows the order of the first run again, as a stale read does
    emulator.play(*first)
    older = _run(dag, DAY + dt.timedelta(minutes=30))
    from tests.support import xcom_value

    assert xcom_value(older, "ledger")["older_order"] is True
    emulator.play(*second)  # and the newer order comes back
    _run(dag, DAY + dt.timedelta(minutes=45))
    assert _keys(_rows(root)).count(second) == 2  # the first run's and the replay: not a third


def test_more_than_50_plays_between_runs_is_a_gap_then_every_entry(
    start_emulator: Any, load_dag: Any, tmp_path: Any
) -> None:
    emulator = start_emulator(albums=20, songs=200, history=50, recently_played_short_every=3)
    root = tmp_path / "plays"
    dag = _dag(load_dag, "ledger_gap", f"file://{root}")
    _run(dag, DAY)
    before = set(_keys(_rows(root)))
    fresh = [s for s in emulator.catalog_ids("songs") if ("songs", s) not in before][:55]
    for song in fresh:
        emulator.play("songs", song)
    _run(dag, DAY + dt.timedelta(minutes=15))
    rows = _rows(root)[50:]
    assert rows[0]["kind"] == "gap"
    assert rows[0]["observed_after"] is not None and rows[0]["observed_before"] is not None
    assert _keys(rows) == [("songs", s) for s in reversed(fresh[-50:])]


def test_an_s3_ledger_in_parquet(start_emulator: Any, load_dag: Any, s3_bucket: Any) -> None:
    import io

    import pyarrow.parquet as pq

    from airflow_provider_applemusic.files.parquet import schema_for
    from tests.support import xcom_value

    emulator = start_emulator(albums=20, songs=200, history=12)
    bucket = s3_bucket.bucket_name
    dag = _dag(load_dag, "ledger_s3", f"s3://{bucket}/plays", "parquet")
    run = _run(dag, DAY)
    result = xcom_value(run, "ledger")
    assert result["uri"] == f"s3://{bucket}/plays/date=2026-11-30/manual__2026-11-30T12_00_00_00_00.parquet"
    key = result["uri"].removeprefix(f"s3://{bucket}/")
    table = pq.read_table(io.BytesIO(s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read()))
    assert table.schema.remove_metadata() == schema_for("ledger").remove_metadata()
    expected = emulator.library_items(PLAYED, extend=())
    assert table.column("id").to_pylist() == [e["id"] for e in expected]
    assert set(table.column("source").to_pylist()) == {"poll"}
    assert table.column("estimated_played_at").type.tz == "UTC"
    assert result["count"] == 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"file_format": "csv"}, "file_format must be one of jsonl, parquet"),
        ({"ledger": "plays"}, "ledger must be an Asset"),
        ({"ledger": None}, "ledger must be given"),
        ({"path": 3}, "path must be a URL"),
    ],
)
def test_bad_input_is_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    from airflow.sdk import Asset

    arguments: dict[str, Any] = {"task_id": "t", "path": "s3://b/plays", "ledger": Asset("plays"), **kwargs}
    with pytest.raises(AppleMusicConfigError, match=message):
        ListeningHistoryOperator(**arguments)


def test_a_bad_path_fails_before_any_request(start_emulator: Any) -> None:
    from airflow.sdk import Asset

    emulator = start_emulator(albums=5, history=5)
    operator = ListeningHistoryOperator(task_id="t", path="s3://", ledger=Asset("plays"))
    with pytest.raises(AppleMusicConfigError, match="path must name a bucket"):
        operator.execute({"asset_state_store": {}})  # type: ignore[arg-type]
    assert not emulator.stats.paths
