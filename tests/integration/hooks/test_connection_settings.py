"""Every connection field is checked, and a bad one is named, before any request."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook


def _fields(emulator: Any, **changes: Any) -> dict[str, Any]:
    fields = emulator.connection_dict()
    extra = dict(fields.pop("extra"))
    extra.update(changes.pop("extra", {}))
    fields.update(changes)
    fields["extra"] = {k: v for k, v in extra.items() if v is not None}
    return {k: v for k, v in fields.items() if v is not None}


BAD_FIELDS = [
    ({"login": ""}, "'login' (Team ID) is empty"),
    ({"login": "SHORT"}, "'login' (Team ID) must be 10"),
    ({"extra": {"key_id": None}}, "'key_id' is empty"),
    ({"extra": {"key_id": "abc"}}, "'key_id' must be 10"),
    ({"password": ""}, "'password' (Private key (.p8)) is empty"),
    ({"password": "not a key"}, "'password' (Private key (.p8)) does not hold a readable PEM"),
    ({"extra": {"token_lifetime_seconds": 15_552_001}}, "'token_lifetime_seconds' must be"),
    ({"extra": {"token_lifetime_seconds": "soon"}}, "'token_lifetime_seconds' must be"),
    ({"extra": {"timeout_seconds": 0}}, "'timeout_seconds' must be"),
    ({"extra": {"max_attempts": 0}}, "'max_attempts' must be"),
    ({"extra": {"max_attempts": 2.5}}, "'max_attempts' must be"),
    ({"extra": {"max_retry_seconds": -1}}, "'max_retry_seconds' must be"),
    ({"extra": {"storefront": "USA"}}, "'storefront' must be a two-letter"),
    ({"extra": {"requests_per_second": 0}}, "'requests_per_second' must be a number greater than 0"),
    ({"extra": {"requests_per_second": "fast"}}, "'requests_per_second' must be a number"),
    ({"extra": {"budget_store": "redis://127.0.0.1:1/2"}}, "'budget_store' is set but 'requests_per_second'"),
    (
        {"extra": {"budget_store": "http://127.0.0.1:1", "requests_per_second": 5}},
        "'budget_store' must be a Redis URL",
    ),
    ({"host": "http://api.example.com"}, "'host' uses plain http"),
    ({"host": "ftp://127.0.0.1"}, "'host' must be an http(s) URL"),
    ({"password": "", "extra": {"private_key_path": "/nonexistent/AuthKey.p8"}}, "'private_key_path'"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_FIELDS)
def test_bad_connection_field_is_named_before_any_request(
    start_emulator: Any, set_connection: Any, changes: dict[str, Any], message: str
) -> None:
    emulator = start_emulator()
    set_connection(**_fields(emulator, **changes))
    hook = AppleMusicHook()
    with pytest.raises(AppleMusicConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        hook.get_storefront()
    ok, text = AppleMusicHook().test_connection()
    assert not ok
    assert message.split("'")[1] in text
    assert emulator.stats.requests == 0


def test_rsa_key_is_refused_as_not_ec_p256(start_emulator: Any, set_connection: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    emulator = start_emulator()
    set_connection(**_fields(emulator, password=pem))
    with pytest.raises(AppleMusicConfigError, match="not EC P-256"):
        AppleMusicHook().get_developer_token()
    assert emulator.stats.requests == 0


def test_p384_key_is_refused_as_not_ec_p256(start_emulator: Any, set_connection: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    emulator = start_emulator()
    set_connection(**_fields(emulator, password=pem))
    with pytest.raises(AppleMusicConfigError, match="not EC P-256"):
        AppleMusicHook().validate()


def test_key_pasted_with_literal_newlines_and_whitespace_works(
    start_emulator: Any, set_connection: Any
) -> None:
    emulator = start_emulator()
    damaged = "  " + emulator.private_key_pem.strip().replace("\n", "\\n") + "\n\n "
    set_connection(**_fields(emulator, password=damaged))
    assert AppleMusicHook().get_storefront() == "us"


def test_key_read_from_private_key_path(start_emulator: Any, set_connection: Any, tmp_path: Any) -> None:
    emulator = start_emulator()
    key_file = tmp_path / "AuthKey.p8"
    key_file.write_text(emulator.private_key_pem)
    set_connection(**_fields(emulator, password="", extra={"private_key_path": str(key_file)}))
    assert AppleMusicHook().get_storefront() == "us"


def test_missing_user_token_is_named_before_any_request(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator()
    set_connection(**_fields(emulator, extra={"music_user_token": None}))
    with pytest.raises(AppleMusicConfigError, match="'music_user_token'"):
        list(AppleMusicHook().iter_library_albums())
    assert emulator.stats.requests == 0


def test_constructor_values_win_over_extras(start_emulator: Any, set_connection: Any) -> None:
    emulator = start_emulator()
    set_connection(
        **_fields(emulator, extra={"timeout_seconds": 5, "max_attempts": 3, "max_retry_seconds": 9})
    )
    assert AppleMusicHook().settings.max_attempts == 3
    hook = AppleMusicHook(timeout_seconds=2.5, max_attempts=4, max_retry_seconds=1)
    assert (hook.settings.timeout_seconds, hook.settings.max_attempts) == (2.5, 4)
    assert hook.settings.max_retry_seconds == 1
    with pytest.raises(AppleMusicConfigError, match="parameter 'max_attempts'"):
        _ = AppleMusicHook(max_attempts=0).settings


def test_settings_repr_holds_no_secret(start_emulator: Any) -> None:
    emulator = start_emulator()
    text = repr(AppleMusicHook().settings)
    assert emulator.user_token not in text
    assert "PRIVATE KEY" not in text
