"""ListeningHistoryOperator without a run: where each run's file goes, what it refuses, its defaults."""

from __future__ import annotations

import datetime as dt

import pytest
from airflow.sdk import Asset

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.listening_history import ListeningHistoryOperator, file_name

LEDGER = Asset(name="plays", uri="applemusic://history/plays")


def test_each_run_writes_under_its_day_named_by_its_run_id() -> None:
    operator = ListeningHistoryOperator(
        task_id="t", path="s3://bucket/plays/", ledger=LEDGER, file_format="parquet"
    )
    target = operator.ledger_file(dt.date(2026, 11, 30), "scheduled__2026-11-30T12:15:00+00:00")
    assert target.uri == "s3://bucket/plays/date=2026-11-30/scheduled__2026-11-30T12_15_00_00_00.parquet"
    assert file_name("manual__a b/c") == "manual__a_b_c"


def test_the_ledger_is_an_outlet_and_runs_do_not_overlap() -> None:
    operator = ListeningHistoryOperator(task_id="t", path="s3://bucket/plays", ledger=LEDGER)
    assert operator.outlets == [LEDGER]
    assert operator.max_active_tis_per_dag == 1
    from_outlets = ListeningHistoryOperator(task_id="u", path="s3://bucket/plays", outlets=[LEDGER])
    assert from_outlets.ledger == LEDGER


def test_no_ledger_is_refused_naming_the_parameter() -> None:
    with pytest.raises(AppleMusicConfigError, match="ledger must be given"):
        ListeningHistoryOperator(task_id="t", path="s3://bucket/plays")
