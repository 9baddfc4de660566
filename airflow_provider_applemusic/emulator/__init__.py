"""An emulator of the Apple Music API, for offline tests, demos and benchmarks."""

from __future__ import annotations

from airflow_provider_applemusic.emulator.options import EmulatorOptions
from airflow_provider_applemusic.emulator.server import AppleMusicEmulator
from airflow_provider_applemusic.emulator.sessions import SessionMix
from airflow_provider_applemusic.emulator.stats import EmulatorStats

__all__ = ["AppleMusicEmulator", "EmulatorOptions", "EmulatorStats", "SessionMix"]
