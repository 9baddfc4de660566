"""The many-users example DAG: one mapped export per user connection, all on one developer key."""

from __future__ import annotations

import importlib.util
import json
import pathlib
from typing import Any

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLE = ROOT / "example_dags" / "applemusic_many_users_export.py"


def _module() -> Any:
    spec = importlib.util.spec_from_file_location("example_many_users", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def apple_music_pool(airflow_db: str) -> None:
    from airflow.models.pool import Pool

    Pool.create_or_update_pool("apple_music", slots=4, description="Apple Music API", include_deferred=False)


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


def test_connection_id_lists_are_checked() -> None:
    module = _module()
    assert module.checked_conn_ids(["a", " b "], "conf") == ["a", "b"]
    for bad in ([], "a", ["a", ""], ["a", 3], None):
        with pytest.raises(
            ValueError, match="conf must be a non-empty JSON list of apple_music connection ids"
        ):
            module.checked_conn_ids(bad, "conf")
    with pytest.raises(ValueError, match="names a connection more than once"):
        module.checked_conn_ids(["a", "a"], "conf")
    assert module.dag.params["apple_music_conn_ids"] is None
