"""
No secret leaks: the export and add-and-wait DAGs run at DEBUG through ``airflow dags test``,
and nothing they leave (console output, XComs, rendered template fields, trigger kwargs, error
texts) holds the ``.p8`` key (any line of it), the Music User Token or a minted JWT.

At DEBUG, Airflow's own supervisor echoes each mask registration as a ``MaskSecret(value=...)``
line: that line is Airflow's, not this provider's, and is left out of the scan. Every other
line counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import ROOT

if TYPE_CHECKING:
    import pathlib

EXAMPLES = ROOT / "example_dags"


def _secrets(emulator: Any) -> list[str]:
    body = [line for line in emulator.private_key_pem.splitlines() if not line.startswith("-----")]
    return [emulator.user_token, "".join(body), *body, *emulator._seen_tokens]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = []
    for line in text.splitlines():
        if "MaskSecret(value=" in line:
            continue  # Airflow's supervisor echoing a mask registration (see module docstring)
        found += [f"{s[:6]}... in: {line[:200]}" for s in secrets if s and s in line]
    return found


def _stored_texts(dag_ids: list[str]) -> str:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.scalars(select(XComModel).where(XComModel.dag_id.in_(dag_ids))).all()
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(RenderedTaskInstanceFields.dag_id.in_(dag_ids))
        ).all()
        triggers = session.scalars(select(Trigger)).all()
        texts = [json.dumps(XComModel.deserialize_value(x), default=str) for x in xcoms]
        texts += [json.dumps(r.rendered_fields, default=str) for r in rendered]
        texts += [json.dumps(t.kwargs, default=str) for t in triggers]
        assert xcoms and rendered, "the runs left no XCom or rendered fields to scan"
        return "\n".join(texts)


def _dags_test(dags_folder: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
    }
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


FAILING_DAG = """
import pendulum
from airflow.sdk import DAG

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator

with DAG("applemusic_failing_export", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    LibraryAlbumsToS3Operator(
        task_id="export", s3_bucket="{{ var.value.applemusic_bucket }}", s3_key="failing.jsonl", retries=0
    )
"""


@pytest.fixture
def dags_folder(airflow_db: str, tmp_path: pathlib.Path) -> pathlib.Path:
    from airflow.models.pool import Pool

    Pool.create_or_update_pool("apple_music", slots=4, description="Apple Music API", include_deferred=False)
    folder = tmp_path / "dags"
    folder.mkdir()
    for name in ("applemusic_library_export.py", "applemusic_add_and_wait.py"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "applemusic_failing_export.py").write_text(FAILING_DAG)
    return folder


def test_no_secret_in_any_output_or_stored_value(
    start_emulator: Any, s3_bucket: Any, dags_folder: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = start_emulator(albums=300, add_delay=1.5)
    monkeypatch.setenv("AIRFLOW_VAR_APPLEMUSIC_BUCKET", s3_bucket.bucket_name)
    outputs = []
    export = _dags_test(dags_folder, "applemusic_library_export", "2024-03-06")
    assert export.returncode == 0, export.stdout[-3000:] + export.stderr[-3000:]
    outputs.append(export.stdout + export.stderr)
    albums = emulator.catalog_ids("albums")[:2]
    add = _dags_test(
        dags_folder, "applemusic_add_and_wait", "--conf", json.dumps({"ids": {"albums": albums}})
    )
    assert add.returncode == 0, add.stdout[-3000:] + add.stderr[-3000:]
    outputs.append(add.stdout + add.stderr)
    # a failing run: the user token refused mid-way, so error texts are scanned too
    emulator.revoke_user_token()
    failed = _dags_test(dags_folder, "applemusic_failing_export")
    assert failed.returncode != 0
    outputs.append(failed.stdout + failed.stderr)
    assert "Music User Token was refused (403)" in outputs[-1]

    output = "\n".join(outputs)
    assert "Exported 300 library-albums" in output, "the scanned output is not the runs' output"
    assert " DEBUG " in output.upper() or "[debug" in output.lower(), "DEBUG logging was not on"
    secrets = _secrets(emulator)
    assert len(emulator._seen_tokens) >= 1
    assert _leaks(output, secrets) == []
    stored = _stored_texts(
        ["applemusic_library_export", "applemusic_add_and_wait", "applemusic_failing_export"]
    )
    assert _leaks(stored, secrets) == []


def test_secrets_are_redacted_by_airflows_masker(start_emulator: Any) -> None:
    from airflow.sdk.log import _secrets_masker

    from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

    emulator = start_emulator(albums=5, seed=77)
    hook = AppleMusicHook()
    hook.get_storefront()
    secrets = _secrets(emulator)
    redacted = _secrets_masker().redact("\n".join(f"value: {s}" for s in secrets))
    assert _leaks(str(redacted), secrets) == []
