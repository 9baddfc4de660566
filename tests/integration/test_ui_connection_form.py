"""The Airflow UI's connection form for ``apple_music``, read from a real ``airflow api-server``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.unit.test_provider_info import EXTRA_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_server(airflow_db: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, "airflow api-server exited"
            assert time.monotonic() < deadline, "airflow api-server did not start"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _apple_music_form(url: str) -> dict[str, Any]:
    response = requests.get(f"{url}/ui/connections/hook_meta", timeout=30)
    assert response.status_code == 200
    forms = [form for form in response.json() if form["connection_type"] == "apple_music"]
    assert len(forms) == 1
    return forms[0]


def test_form_relabels_hides_and_describes_fields(api_server: str) -> None:
    form = _apple_music_form(api_server)
    assert form["hook_name"] == "Apple Music"
    assert form["hook_class_name"] == "airflow_provider_applemusic.hooks.apple_music.AppleMusicHook"
    standard = form["standard_fields"]
    assert standard["login"]["title"] == "Team ID"
    assert standard["password"]["title"] == "Private key (.p8)"
    assert standard["host"]["placeholder"] == "https://api.music.apple.com"
    assert standard["port"]["hidden"] is True
    assert standard["url_schema"]["hidden"] is True


def test_form_lists_every_extra_field_with_description(api_server: str) -> None:
    extras = _apple_music_form(api_server)["extra_fields"]
    assert set(extras) == EXTRA_FIELDS
    assert all(field["description"] for field in extras.values())
    assert extras["key_id"]["schema"]["title"] == "Key ID"
    assert extras["key_id"]["schema"]["examples"] == ["ABC123DEFG"]
    assert extras["music_user_token"]["schema"]["format"] == "password"
    assert extras["developer_token"]["schema"]["format"] == "password"
    assert extras["token_lifetime_seconds"]["schema"]["maximum"] == 15_552_000
