"""
What the sync and async Apple Music hooks share: the constructor, the connection and its checks,
the token minter, the transport built from them, and the request a hook's ``request()`` sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_applemusic.api.validation import validate_concurrency
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.transport.connection import (
    DEFAULT_CONN_ID,
    AppleMusicSettings,
    settings_from_connection,
)
from airflow_provider_applemusic.transport.tokens import DeveloperTokenMinter, get_minter, mask
from airflow_provider_applemusic.transport.transport import Request, Transport

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_applemusic.transport.errors import NotFound


def api_request(
    method: str,
    path: str,
    params: Mapping[str, str] | None,
    *,
    user_token: bool,
    expect_json: bool,
    expect_data: bool,
    listing_offset: int | None,
    json_body: Any = None,
    idempotent: bool = True,
) -> Request:
    """
    The :class:`Request` a hook's ``request()`` sends (``listing_offset``: the listing rules of a 404).

    :param method: HTTP method.
    :param path: path below the host, e.g. ``/v1/me/storefront``.
    :param params: query parameters.
    :param user_token: send the Music User Token.
    :param expect_json: decode the body (False for answers without one).
    :param expect_data: the body must carry a ``data`` list.
    :param listing_offset: the request is a page of a library listing at this offset (the listing rules of a
        404), or None.
    :param json_body: a JSON request body (writes).
    :param idempotent: False for a write that must not be sent twice blindly.
    """
    not_found: NotFound = "raise"
    if listing_offset is not None:
        not_found = "empty" if listing_offset == 0 else "retry"
    return Request(
        method,
        path,
        params,
        user_token=user_token,
        expect_json=expect_json,
        expect_data=expect_data,
        not_found=not_found,
        offset=listing_offset,
        json_body=json_body,
        idempotent=idempotent,
    )


class AppleMusicHookBase(BaseHook):
    """
    What the sync and async hooks share: the constructor, the connection and its checked
    settings, the token minter, and the transport built from them.
    """

    conn_name_attr = "apple_music_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "apple_music"
    hook_name = "Apple Music"
    #: requests in flight at most, when the constructor is not told
    default_max_concurrency = 8

    def __init__(
        self,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout_seconds: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        """
        Read nothing yet: the connection is read on first use.

        :param apple_music_conn_id: the ``apple_music`` connection.
        :param timeout_seconds: per-request timeout; None: the connection's extra, else 30.
        :param max_attempts: attempts per request; None: the connection's extra, else 8.
        :param max_retry_seconds: total retry time of one request; None: the connection's extra, else 300.
        :param max_concurrency: requests in flight at most; None: :attr:`default_max_concurrency`.
        """
        super().__init__()
        self.apple_music_conn_id = apple_music_conn_id
        self.max_concurrency = validate_concurrency(
            self.default_max_concurrency if max_concurrency is None else max_concurrency
        )
        self._overrides = {
            "timeout_seconds": timeout_seconds,
            "max_attempts": max_attempts,
            "max_retry_seconds": max_retry_seconds,
        }
        #: the user's storefront, once asked
        self._storefronts: dict[str, str] = {}

    def _load(self, conn: Any) -> tuple[AppleMusicSettings, DeveloperTokenMinter | None]:
        """Check the connection, mask its secrets, and find the token minter for its key."""
        settings = settings_from_connection(conn, self._overrides)
        mask(settings.music_user_token)
        mask(settings.developer_token)
        mask(settings.budget_store)
        if settings.developer_token:
            return settings, None
        if not (settings.team_id and settings.key_id and settings.private_key_pem):
            raise AppleMusicConfigError(
                f"connection '{settings.conn_id}' needs Team ID, Key ID and key, or extra 'developer_token'"
            )
        minter = get_minter(
            settings.team_id, settings.key_id, settings.private_key_pem, settings.token_lifetime_seconds
        )
        return settings, minter

    def _transport_for(self, loaded: tuple[AppleMusicSettings, DeveloperTokenMinter | None]) -> Transport:
        return Transport(loaded[0], loaded[1], max_concurrency=self.max_concurrency, log=self.log)
