"""ListeningHistoryOperator in DAG runs writing a Parquet ledger to S3, against the ground truth of plays."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from airflow_provider_applemusic.emulator.sessions import SessionMix
from tests.integration.hooks.test_play_ledger_week import shown_new
from tests.integration.operators.test_listening_history import DAY, _dag, _run

PLAYED = "recently-played-tracks"


def _list(emulator: Any) -> list[str]:
    return [f"{e['type']}:{e['id']}" for e in emulator.library_items(PLAYED, extend=())]


def _ledger_file(s3: Any, key: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    body = s3.get_object(Bucket=s3.bucket_name, Key=key)["Body"].read()
    return list(pq.read_table(io.BytesIO(body)).to_pylist())


def test_an_evening_of_sessions_is_recorded_exactly_once_each_in_its_window(
    start_emulator: Any, load_dag: Any, s3_bucket: Any
) -> None:
    from tests.support import xcom_value

    emulator = start_emulator(albums=20, songs=300, history=30)
    bucket = s3_bucket.bucket_name
    dag = _dag(load_dag, "ledger_evening", f"s3://{bucket}/plays", "parquet")
    _run(dag, DAY)  # the first run: the list as it is
    previous = _list(emulator)
    recorded: dict[str, dict[str, Any]] = {}
    mix = SessionMix(repeat=0.1, replay=0.3)
    for number, plays in enumerate([6, 11, 0, 3, 9], 1):
        made = emulator.listening_session(plays, mix=mix)
        when = DAY + dt.timedelta(minutes=15 * number)
        run = _run(dag, when)
        if number == 4:  # the run is cleared and run again after a song more: its retry
            made += [emulator.play(emulator.catalog_ids("songs")[number], at=None)]
            run = _run(dag, when)
        result = xcom_value(run, "ledger")
        current = _list(emulator)
        shown = shown_new(previous, current)
        distinct = list(dict.fromkeys(f"{p['type']}:{p['id']}" for p in reversed(made)))
        assert result["plays"] == shown and current[:shown] == distinct[:shown]
        if not shown:
            assert result["uri"] is None
            continue
        rows = _ledger_file(s3_bucket, result["uri"].removeprefix(f"s3://{bucket}/"))
        assert [f"{r['type']}:{r['id']}" for r in rows] == distinct[:shown]
        last_play = {f"{p['type']}:{p['id']}": p["at"] for p in made}
        for row in rows:  # played inside the window the row gives
            assert row["observed_after"] < last_play[f"{row['type']}:{row['id']}"] <= row["observed_before"]
            assert row["play_id"] not in recorded
            recorded[row["play_id"]] = row
        previous = current
    assert len(recorded) >= 20
    assert emulator.stats.paths["/v1/me/recent/played/tracks"] >= 12  # every run read the list
