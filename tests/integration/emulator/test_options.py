"""The emulator's options on a running emulator: it reads them afresh."""

from __future__ import annotations

from airflow_provider_applemusic.emulator import AppleMusicEmulator
from tests import support


def test_a_running_emulator_reads_its_options_afresh() -> None:
    with AppleMusicEmulator(albums=3) as emulator:
        token = support.developer_token(emulator)
        assert support.get(emulator, "/v1/storefronts/us", token=token, user_token=None).status_code == 200
        emulator.rate_limit = 1
        statuses = [
            support.get(emulator, "/v1/storefronts/us", token=token, user_token=None).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 429, 429] and emulator.options.rate_limit == 1
