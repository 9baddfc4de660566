"""pytest plugin (entry point ``pytest11``): the ``apple_music_emulator`` fixture."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.emulator.server import AppleMusicEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def apple_music_emulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AppleMusicEmulator]:
    """
    A running emulator, with ``AIRFLOW_CONN_APPLE_MUSIC_DEFAULT`` pointing at it for the test.

    Pass emulator arguments with indirect parametrisation::

        @pytest.mark.parametrize("apple_music_emulator", [{"albums": 50}], indirect=True)
    """
    options: dict[str, Any] = dict(getattr(request, "param", None) or {})
    with AppleMusicEmulator(**options) as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_APPLE_MUSIC_DEFAULT", emulator.connection_json())
        yield emulator
