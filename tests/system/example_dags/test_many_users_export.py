"""The many-users example DAG: one mapped export per user connection, all on one developer key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from tests.support import ROOT

if TYPE_CHECKING:
    import pytest

EXAMPLE = ROOT / "example_dags" / "applemusic_many_users_export.py"


def test_each_users_library_lands_in_a_file_named_by_its_connection(
    s3_bucket: Any, load_dag: Any, apple_music_pool: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.utils.state import DagRunState, TaskInstanceState

    bucket = s3_bucket.bucket_name
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", bucket)
    with AppleMusicEmulator(albums=230, users=3, seed=11) as emulator:
        conn_ids = [f"apple_music_user_{user}" for user in range(3)]
        for user, conn_id in enumerate(conn_ids):
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", emulator.connection_json(user))
        monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_USER_CONN_IDS", json.dumps(conn_ids))
        dag = load_dag("applemusic_many_users_export", EXAMPLE.read_text())
        run = dag.test()
        assert run.state == DagRunState.SUCCESS
        mapped = [ti for ti in run.get_task_instances() if ti.task_id == "export_user_library"]
        assert sorted(ti.map_index for ti in mapped) == [0, 1, 2]
        assert all(ti.state == TaskInstanceState.SUCCESS for ti in mapped)
        for user, conn_id in enumerate(conn_ids):
            key = f"library-albums/{run.run_id}/{conn_id}.jsonl"
            body = s3_bucket.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert [json.loads(line) for line in body.splitlines()] == emulator.library(user=user)
        assert set(emulator.stats.users) == {0, 1, 2}
