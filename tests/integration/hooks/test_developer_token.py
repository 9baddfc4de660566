"""Developer tokens: ES256, the right header and claims, cached, renewed, re-minted after 401."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from airflow_provider_applemusic.exceptions import AppleMusicDeveloperTokenError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook


def test_token_is_es256_with_kid_and_claims_verified_by_public_key(start_emulator: Any) -> None:
    emulator = start_emulator(seed=41)
    before = int(time.time())
    token = AppleMusicHook().get_developer_token()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == emulator.key_id
    claims = jwt.decode(token, emulator.public_key, algorithms=["ES256"], issuer=emulator.team_id)
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 12 * 3600


def test_token_lifetime_follows_connection_extra(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator()
    fields = emulator.connection_dict()
    fields["extra"]["token_lifetime_seconds"] = 15_552_000
    set_connection(**fields)
    token = AppleMusicHook().get_developer_token()
    claims = jwt.decode(token, emulator.public_key, algorithms=["ES256"])
    assert claims["exp"] - claims["iat"] == 15_552_000
    assert AppleMusicHook().get_storefront() == "us"


def test_token_is_cached_across_hooks(start_emulator: Any) -> None:
    start_emulator()
    assert AppleMusicHook().get_developer_token() == AppleMusicHook().get_developer_token()


def test_revoked_token_is_reminted_once_and_request_retried(start_emulator: Any) -> None:
    emulator = start_emulator()
    hook = AppleMusicHook()
    assert hook.get_storefront() == "us"
    old = hook.get_developer_token()
    emulator.revoke_developer_tokens()
    assert hook.get_storefront() == "us"
    assert hook.get_developer_token() != old
    assert emulator.stats.statuses[401] == 1
    assert emulator.stats.requests == 3


def test_key_the_service_does_not_know_fails_after_one_remint(
    start_emulator: Any, set_connection: Any
) -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    emulator = start_emulator()
    other = AppleMusicEmulator(seed=99)
    fields = emulator.connection_dict()
    fields["password"] = other.private_key_pem
    set_connection(**fields)
    with pytest.raises(AppleMusicDeveloperTokenError, match="even after minting a fresh one") as info:
        AppleMusicHook().get_storefront()
    # the request and its re-mint, then the developer-token-only check and its re-mint
    assert emulator.stats.statuses[401] == 4
    assert emulator.stats.paths["/v1/storefronts/us"] == 2
    assert "PRIVATE KEY" not in str(info.value)


def test_refused_pre_minted_token_says_it_cannot_be_reminted(
    start_emulator: Any, set_connection: Any
) -> None:
    emulator = start_emulator()
    fields = emulator.connection_dict()
    fields.pop("password")
    fields.pop("login")
    fields["extra"]["developer_token"] = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"
    set_connection(**fields)
    with pytest.raises(AppleMusicDeveloperTokenError, match="pre-minted developer token") as info:
        AppleMusicHook().get_storefront()
    assert "eyJhbGciOiJFUzI1NiJ9" not in str(info.value)
    # the request, then the check with the developer token alone; nothing re-minted
    assert emulator.stats.requests == 2
    assert emulator.stats.paths["/v1/storefronts/us"] == 1


def test_valid_pre_minted_token_is_used_as_is(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator()
    minted = AppleMusicHook().get_developer_token()
    fields = emulator.connection_dict()
    fields.pop("password")
    fields["extra"]["developer_token"] = minted
    set_connection(**fields)
    hook = AppleMusicHook()
    assert hook.get_developer_token() == minted
    assert hook.get_storefront() == "us"


def test_secrets_are_registered_with_the_masker(start_emulator: Any) -> None:
    from airflow.sdk.log import _secrets_masker

    emulator = start_emulator(seed=31)
    hook = AppleMusicHook()
    token = hook.get_developer_token()
    hook.get_storefront()
    key_line = emulator.private_key_pem.splitlines()[1]
    text = f"a {token} b {emulator.user_token} c {key_line} d {emulator.private_key_pem}"
    redacted = _secrets_masker().redact(text)
    for secret in (token, emulator.user_token, key_line):
        assert secret not in redacted
