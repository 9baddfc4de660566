"""Developer tokens for raw-HTTP emulator tests, minted like the service expects them (ES256)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator


def developer_token(emulator: AppleMusicEmulator, **changes: Any) -> str:
    """
    A developer token for ``emulator``'s own key, valid for an hour; ``claims`` updates the
    claims, ``key`` signs with another key (a key object or PEM), ``kid`` names another Key ID.
    """
    now = int(time.time())
    claims = {"iss": emulator.team_id, "iat": now, "exp": now + 3600}
    claims.update(changes.pop("claims", {}))
    key = changes.pop("key", None) or emulator._private_key
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": changes.get("kid", emulator.key_id)})


def key_token(emulator: AppleMusicEmulator, connection: dict[str, Any]) -> str:
    """A developer token for the key of an ``apple_music`` connection dict (``add_developer_key``)."""
    return developer_token(
        emulator,
        key=connection["password"],
        kid=connection["extra"]["key_id"],
        claims={"iss": connection["login"]},
    )
