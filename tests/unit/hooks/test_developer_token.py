"""Developer tokens without a request: re-minted shortly before they expire."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import jwt

from airflow_provider_applemusic.transport import tokens

if TYPE_CHECKING:
    import pytest


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_token_is_reminted_shortly_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    clock = _Clock()
    monkeypatch.setattr(tokens, "time", clock)
    minter = tokens.DeveloperTokenMinter("TEAMID0001", "KEYID00001", pem, 3600)
    first = minter.token()
    clock.now += 3600 - 301
    assert minter.token() == first
    clock.now += 2
    second = minter.token()
    assert second != first
    assert jwt.decode(second, options={"verify_signature": False})["iat"] == int(clock.now)
    assert minter.minted == 2
