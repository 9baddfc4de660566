"""The emulator without serving: the same seed gives the same library and key; the fidelity flags."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator


def test_same_seed_same_library() -> None:
    first, second = AppleMusicEmulator(albums=50, seed=11), AppleMusicEmulator(albums=50, seed=11)
    assert first.library() == second.library()
    assert first.private_key_pem == second.private_key_pem


def test_command_line_flags_reach_the_fidelity_knobs() -> None:
    from airflow_provider_applemusic.emulator.__main__ import build_parser

    args = build_parser().parse_args(
        ["--truncate-every", "3", "--user-token-refusal", "401", "--no-subscription"]
    )
    assert (args.truncate_every, args.user_token_refusal, args.no_subscription) == (3, 401, True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--user-token-refusal", "500"])
