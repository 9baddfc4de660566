"""Importing the modules and constructing operators opens no socket and reads no connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = r"""
import json, sys
import airflow.sdk

events = []
def audit(event, args):
    if event in ("socket.__new__", "socket.connect", "socket.getaddrinfo"):
        events.append(event)
sys.addaudithook(audit)

from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator
from airflow_provider_applemusic.sensors.library_items import LibraryItemsSensor
from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger

LibraryAlbumsToS3Operator(task_id="export", s3_key="s3://bucket/albums.jsonl", include=["catalog"],
                          added_after="2024-01-01", added_before="{{ data_interval_end }}")
AddToLibraryOperator(task_id="add", ids={"albums": ["1577502911"]})
LibraryItemsSensor(task_id="wait", ids={"albums": ["1577502911"]}, deferrable=True)
LibraryItemsTrigger(ids={"albums": ["1"]}).serialize()
heavy = [m for m in ("requests", "jwt", "boto3") if m in sys.modules]
print(json.dumps({"events": events, "heavy": heavy}))
"""


def test_import_and_construction_open_no_socket_and_read_no_connection() -> None:
    env = {
        **os.environ,
        # a connection that would fail loudly if anything read it
        "AIRFLOW_CONN_APPLE_MUSIC_DEFAULT": "this is not a connection",
        "AIRFLOW_CONN_AWS_DEFAULT": "this is not a connection",
    }
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"events": [], "heavy": []}
