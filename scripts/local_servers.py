"""Start the emulator and moto's S3 server as separate processes on loopback, for benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def emulator_process(**options: Any) -> Iterator[dict[str, Any]]:
    """Run ``python -m airflow_provider_applemusic.emulator`` with options; yield its connection."""
    ready = os.path.join(tempfile.mkdtemp(), "conn.json")
    args = [
        sys.executable,
        "-m",
        "airflow_provider_applemusic.emulator",
        "--port",
        "0",
        "--ready-file",
        ready,
    ]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not os.path.exists(ready) or not os.path.getsize(ready):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.05)
        time.sleep(0.05)
        with open(ready, encoding="utf-8") as handle:
            yield json.load(handle)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def s3_process() -> Iterator[str]:
    """Run moto's S3 server in its own process; yield its endpoint URL."""
    port = free_port()
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def airflow_env(conn: dict[str, Any], s3_url: str | None = None) -> dict[str, str]:
    """Environment variables for connections and a throwaway Airflow home."""
    home = tempfile.mkdtemp(prefix="applemusic-bench-")
    env = {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_APPLE_MUSIC_DEFAULT": json.dumps(conn),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    if s3_url:
        env["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"}}
        )
    return env
