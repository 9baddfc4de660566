"""The example DAGs' own logic, without a run: the export window, the add-and-wait defaults."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import types
from typing import Any

from tests.support import ROOT, import_file

EXAMPLES = ROOT / "example_dags"


def _import_example(name: str) -> Any:
    return import_file(EXAMPLES / f"{name}.py", f"example_{name}")


def _run(run_id: str, logical_date: dt.datetime | None, run_after: dt.datetime) -> Any:
    return types.SimpleNamespace(run_id=run_id, logical_date=logical_date, run_after=run_after)


def test_export_window_follows_the_logical_date_else_the_day_before_the_run() -> None:
    module = _import_example("applemusic_library_export")
    day = dt.datetime(2024, 3, 10, tzinfo=dt.timezone.utc)
    # the CLI's --logical-date gives a data interval computed from now: only the date counts
    with_date = _run("manual__2024-03-10", day, dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc))
    assert module.added_window(with_date) == (day, day + dt.timedelta(days=1))
    assert module.additions_key(with_date) == "albums/added/2024-03-10.jsonl"
    ran = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    without = _run("manual__2026-01-02T03:04:05+00:00", None, ran)
    assert module.added_window(without) == (ran - dt.timedelta(days=1), ran)
    assert module.additions_key(without) == "albums/added/manual/manual__2026-01-02T03:04:05+00:00.jsonl"


def test_add_and_wait_default_ids_are_in_the_demo_emulators_catalog() -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    demo = import_file(ROOT / "scripts" / "demo.py", "applemusic_demo")
    defaults = _import_example("applemusic_add_and_wait").DEFAULT_IDS
    emulator = AppleMusicEmulator(albums=demo.ALBUMS)  # the demo's seed is the default
    assert defaults
    for kind, ids in defaults.items():
        assert set(ids) <= set(emulator.catalog_ids(kind)), f"{kind} {ids} not addable in the demo"
    command = ["-m", "airflow_provider_applemusic.emulator", f"--albums={demo.ALBUMS}", "--list-catalog-ids"]
    listed = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for kind, ids in defaults.items():
        assert {f"{kind}\t{catalog_id}" for catalog_id in ids} <= set(listed)


def test_recent_plays_dag_is_scheduled_on_the_asset_its_trigger_watches() -> None:
    from airflow_provider_applemusic.triggers.recently_played import RecentlyPlayedTrigger

    module = _import_example("applemusic_on_recent_plays")
    [watcher] = module.RECENTLY_PLAYED.watchers
    assert isinstance(watcher.trigger, RecentlyPlayedTrigger)
    assert watcher.trigger.apple_music_conn_id == "apple_music_default"
    assert list(module.dag.timetable.asset_condition.objects) == [module.RECENTLY_PLAYED]
    [task] = module.dag.tasks
    assert task.ledger != module.RECENTLY_PLAYED


def test_loved_songs_csv_keeps_loved_rows_in_order_with_an_empty_isrc_where_none() -> None:
    module = _import_example("applemusic_loved_songs")
    rows = [
        {"isrc": "USAB12400001", "name": "One, Two", "artist_name": "Björk", "album_name": "A", "rating": 1},
        {"isrc": "GBXY12400002", "name": "Two", "artist_name": "B", "album_name": "B", "rating": -1},
        {"isrc": None, "name": 'Demo "take"', "artist_name": "Me", "album_name": None, "rating": 1},
        {"isrc": "SEQQ12400003", "name": "Three", "artist_name": "C", "album_name": "C", "rating": None},
    ]
    loved = module.loved_rows(rows)
    assert loved == [("USAB12400001", "One, Two", "Björk", "A"), ("", 'Demo "take"', "Me", "")]
    text = module.csv_bytes(loved).decode("utf-8")
    assert text == 'ISRC,Title,Artist,Album\nUSAB12400001,"One, Two",Björk,A\n,"Demo ""take""",Me,\n'
