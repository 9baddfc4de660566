"""The README's smallest DAG through ``dag.test()``: it exports the library's albums, as it says."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

from tests.support import ROOT

if TYPE_CHECKING:
    import pathlib


def readme_dag() -> str:
    """The python block under the README's "The smallest DAG that exports a library"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The smallest DAG that exports a library", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python block under 'The smallest DAG that exports a library'"
    return match.group(1)


def test_the_readme_dag_exports_every_library_album(
    start_emulator: Any, load_dag: Any, tmp_path: pathlib.Path
) -> None:
    from airflow.utils.state import DagRunState

    emulator = start_emulator(albums=250)
    source = readme_dag()
    assert "file:///tmp/applemusic/" in source
    dag = load_dag("applemusic_albums", source.replace("file:///tmp/applemusic/", f"file://{tmp_path}/"))
    run = dag.test(logical_date=dt.datetime(2024, 3, 5, tzinfo=dt.timezone.utc))
    assert run.state == DagRunState.SUCCESS
    written = (tmp_path / "albums" / "2024-03-05.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line) for line in written.splitlines()] == emulator.library()
