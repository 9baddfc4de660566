"""
Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

``get_provider_info`` is long because it is one literal (the connection form's fields among it),
as Airflow's schema has it; splitting it would only scatter the metadata.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_applemusic import __version__

_HOOK = "airflow_provider_applemusic.hooks.apple_music.AppleMusicHook"


def _text(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": ["string", "null"], **schema},
    }


def _number(label: str, description: str, kind: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


def get_provider_info() -> dict[str, Any]:
    """Name, versions, modules and the ``apple_music`` connection form of this provider."""
    return {
        "package-name": "airflow-provider-applemusic",
        "name": "Apple Music",
        "description": "Apple Music API: library export to S3, adding to a library, waiting "
        "for items to appear.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Apple Music",
                "external-doc-url": "https://developer.apple.com/documentation/applemusicapi",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Apple Music",
                "python-modules": ["airflow_provider_applemusic.hooks.apple_music"],
            }
        ],
        "operators": [
            {
                "integration-name": "Apple Music",
                "python-modules": [
                    "airflow_provider_applemusic.operators.base",
                    "airflow_provider_applemusic.operators.export",
                    "airflow_provider_applemusic.operators.library_albums_to_s3",
                    "airflow_provider_applemusic.operators.add_to_library",
                    "airflow_provider_applemusic.operators.playlists",
                    "airflow_provider_applemusic.operators.changes",
                    "airflow_provider_applemusic.operators.listening_history",
                    "airflow_provider_applemusic.operators.play_activity",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Apple Music",
                "python-modules": ["airflow_provider_applemusic.sensors.library_items"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Apple Music",
                "python-modules": [
                    "airflow_provider_applemusic.triggers.library_items",
                    "airflow_provider_applemusic.triggers.library_changed",
                    "airflow_provider_applemusic.triggers.recently_played",
                ],
            }
        ],
        "transfers": [
            {
                "source-integration-name": "Apple Music",
                "target-integration-name": "Amazon Simple Storage Service (S3)",
                "python-module": "airflow_provider_applemusic.operators.library_albums_to_s3",
            }
        ],
        "connection-types": [
            {
                "connection-type": "apple_music",
                "hook-class-name": _HOOK,
                "hook-name": "Apple Music",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "API base URL",
                        "login": "Team ID",
                        "password": "Private key (.p8)",
                    },
                    "placeholders": {
                        "host": "https://api.music.apple.com",
                        "login": "10-character Team ID, e.g. A1B2C3D4E5",
                        "password": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
                    },
                },
                "conn-fields": {
                    "key_id": _text(
                        "Key ID",
                        "The 10-character Key ID of your MusicKit key, e.g. ABC123DEFG "
                        "(Certificates, Identifiers & Profiles > Keys).",
                        pattern="^[A-Z0-9]{10}$",
                        examples=["ABC123DEFG"],
                    ),
                    "music_user_token": _text(
                        "Music User Token",
                        "The user's Music User Token, obtained with MusicKit on a device or web "
                        "page; required for library requests.",
                        format="password",
                    ),
                    "private_key_path": _text(
                        "Private key path",
                        "Optional: path to the .p8 file instead of pasting it as the password; "
                        "it must exist on every worker and on the triggerer, "
                        "e.g. /opt/airflow/secrets/AuthKey_ABC123DEFG.p8",
                        examples=["/opt/airflow/secrets/AuthKey_ABC123DEFG.p8"],
                    ),
                    "developer_token": _text(
                        "Developer token",
                        "Optional: a pre-minted developer token (JWT) used as is instead of the "
                        "key; it cannot be renewed when it expires.",
                        format="password",
                    ),
                    "storefront": _text(
                        "Storefront",
                        "Optional: two-letter storefront for catalog look-ups, e.g. us; by "
                        "default read from GET /v1/me/storefront.",
                        pattern="^[a-z]{2}$",
                        examples=["us"],
                    ),
                    "token_lifetime_seconds": _number(
                        "Developer token lifetime (s)",
                        "Optional: lifetime of minted developer tokens, 60 to 15552000 "
                        "(180 days; default 43200, 12 h).",
                        "integer",
                        minimum=60,
                        maximum=15_552_000,
                        examples=[43200],
                    ),
                    "timeout_seconds": _number(
                        "Request timeout (s)",
                        "Optional: timeout of each request (default 30).",
                        "number",
                        minimum=0,
                        maximum=3600,
                        examples=[30],
                    ),
                    "max_attempts": _number(
                        "Attempts per request",
                        "Optional: attempts per request, 1 to 100 (default 8).",
                        "integer",
                        minimum=1,
                        maximum=100,
                        examples=[8],
                    ),
                    "max_retry_seconds": _number(
                        "Retry budget (s)",
                        "Optional: total seconds one request may spend retrying (default 300).",
                        "number",
                        minimum=0,
                        maximum=86400,
                        examples=[300],
                    ),
                    "requests_per_second": _number(
                        "Requests per second",
                        "Optional: request budget of the developer key. With a budget store: "
                        "the key's rate, shared by every task, worker and the triggerer; without "
                        "one: each task's own (the key's rate divided by the slots of the pool its "
                        "tasks run in). Empty: no budget, only the adaptive limit.",
                        "number",
                        exclusiveMinimum=0,
                        maximum=10_000,
                        examples=[19],
                    ),
                    "budget_store": _text(
                        "Budget store (Redis URL)",
                        "Optional: Redis that keeps the request budget shared by every process "
                        "using this key, e.g. redis://redis:6379/2; needs the redis extra.",
                        pattern="^(redis|rediss|unix)://",
                        examples=["redis://redis:6379/2"],
                    ),
                },
            }
        ],
    }
