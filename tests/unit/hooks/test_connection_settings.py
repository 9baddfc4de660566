"""Connection fields normalised without a request: the base URL, a pasted PEM key."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.transport.connection import normalize_base_url, normalize_pem


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (None, "https://api.music.apple.com"),
        ("api.music.apple.com", "https://api.music.apple.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.8.9.10:1", "http://127.8.9.10:1"),
        ("http://localhost:8765/", "http://localhost:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("https://proxy.example.com/apple", "https://proxy.example.com/apple"),
    ],
)
def test_base_url_normalisation(host: str | None, expected: str) -> None:
    assert normalize_base_url(host) == expected


def test_pem_normalisation_undoes_paste_damage() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nAAAA\nBBBB\n-----END PRIVATE KEY-----\n"
    assert normalize_pem("  " + pem.replace("\n", "\\n") + "  ") == pem
    assert normalize_pem(pem.replace("\n", "\r\n")) == pem
