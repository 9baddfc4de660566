"""
Reading and validating an ``apple_music`` connection into typed settings, before any request.

``settings_from_connection`` is long because it reads every field in one place, each with the
check and the message that names it: the checks stay next to one another, in the form's order.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from airflow.sdk import Connection

DEFAULT_CONN_ID = "apple_music_default"
DEFAULT_BASE_URL = "https://api.music.apple.com"
DEFAULT_TOKEN_LIFETIME_SECONDS = 12 * 3600
#: Apple documents 15,777,000 s, but tokens over about 180 days are refused in practice
MAX_TOKEN_LIFETIME_SECONDS = 15_552_000
MIN_TOKEN_LIFETIME_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_MAX_RETRY_SECONDS = 300.0
#: most requests a second a request budget may allow (above it, leave the budget out)
MAX_REQUESTS_PER_SECOND = 10_000.0
#: schemes of a shared budget store
BUDGET_STORE_SCHEMES = ("redis", "rediss", "unix")

_APPLE_ID = re.compile(r"^[A-Z0-9]{10}$")
_STOREFRONT = re.compile(r"^[a-z]{2}$")


def is_loopback_host(host: str) -> bool:
    """Tell whether ``host`` is ``localhost``, in 127.0.0.0/8, or ``::1``."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(host: str | None, port: int | None = None) -> str:
    """
    Turn the connection's host (and port) into a base URL, refusing plain http off loopback.

    A host without a scheme means https. Tokens travel in headers, so plain http is only
    accepted for loopback hosts (the emulator).
    """
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = f"https://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppleMusicConfigError(
            f"connection field 'host' must be an http(s) URL such as {DEFAULT_BASE_URL}, "
            f"got scheme {parts.scheme!r}"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise AppleMusicConfigError(
            "connection field 'host' uses plain http to a host that is not loopback; tokens are "
            "only sent over https (plain http is allowed for localhost, 127.0.0.0/8 and ::1)"
        )
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _number(
    extra: dict[str, Any],
    overrides: dict[str, Any],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    integer: bool,
    low_inclusive: bool = True,
) -> Any:
    value = overrides.get(name)
    source = "parameter" if value is not None else "connection extra"
    if value is None:
        value = extra.get(name)
    if value is None or value == "":
        return default
    kind = "an integer" if integer else "a number"
    try:
        if isinstance(value, bool):
            raise TypeError
        number = int(value) if integer else float(value)
        if integer and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        raise AppleMusicConfigError(
            f"{source} '{name}' must be {kind} from {low:g} to {high:g}, got {value!r}"
        ) from None
    too_low = number < low if low_inclusive else number <= low
    if too_low or number > high:
        bound = "from" if low_inclusive else "greater than"
        raise AppleMusicConfigError(
            f"{source} '{name}' must be {kind} {bound} {low:g} to {high:g}, got {value!r}"
        )
    return number


@dataclass(frozen=True)
class AppleMusicSettings:
    """
    Everything a hook needs from an ``apple_music`` connection, validated.

    Secrets are kept out of ``repr``.
    """

    conn_id: str
    base_url: str
    team_id: str | None
    key_id: str | None
    private_key_pem: str | None
    developer_token: str | None
    music_user_token: str | None
    storefront: str | None
    token_lifetime_seconds: int
    timeout_seconds: float
    max_attempts: int
    max_retry_seconds: float
    #: the request budget: requests a second (None: no budget), and where it is kept (None: in
    #: each process, so the rate is each task's; a Redis URL: shared, so the rate is the key's)
    requests_per_second: float | None = None
    budget_store: str | None = None

    def __repr__(self) -> str:
        return (
            f"AppleMusicSettings(conn_id={self.conn_id!r}, base_url={self.base_url!r}, "
            f"team_id={self.team_id!r}, key_id={self.key_id!r}, storefront={self.storefront!r})"
        )

    @property
    def budget_key(self) -> str:
        """
        What shares a request budget: the Apple Developer team and the host. The service
        throttles per team, not per key, so every key of a team shares one budget.
        """
        import hashlib

        from airflow_provider_applemusic.transport.tokens import token_team

        team = (token_team(self.developer_token) if self.developer_token else None) or self.team_id
        if team:
            owner = f"team.{team}"
        else:  # a pre-minted token that names no team: the token stands for it
            owner = "token." + hashlib.sha256((self.developer_token or "").encode()).hexdigest()[:16]
        host = urlsplit(self.base_url).netloc
        return f"{host}:{owner}"

    def require_user_token(self) -> str:
        """Return the Music User Token, or say clearly that the connection lacks it."""
        if not self.music_user_token:
            raise AppleMusicConfigError(
                f"connection '{self.conn_id}' has no extra 'music_user_token': requests to "
                "/v1/me/... need the user's Music User Token (obtained with MusicKit)"
            )
        return self.music_user_token


def normalize_pem(text: str) -> str:
    """Undo common paste damage: literal ``\\n`` sequences, CRLF and surrounding whitespace."""
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n").strip()
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return "\n".join(lines) + "\n"


def _read_key_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as err:
        raise AppleMusicConfigError(
            f"connection extra 'private_key_path' points at {path!r}, which cannot be read "
            f"({err.strerror}); the file must exist on every worker and on the triggerer"
        ) from None


def settings_from_connection(conn: Connection, overrides: dict[str, Any] | None = None) -> AppleMusicSettings:
    """
    Validate a connection and return its settings; every error names the field at fault.

    :param conn: the Airflow connection (type ``apple_music``).
    :param overrides: hook constructor values (``timeout_seconds``, ``max_attempts``,
        ``max_retry_seconds``) that win over the connection's extras when not None.
    """
    overrides = overrides or {}
    extra: dict[str, Any] = dict(conn.extra_dejson or {})
    base_url = normalize_base_url(conn.host, conn.port)

    developer_token = (extra.get("developer_token") or "").strip() or None
    team_id = (conn.login or "").strip() or None
    key_id = (str(extra.get("key_id") or "")).strip() or None
    pem: str | None = None
    if developer_token is None:
        if team_id is None:
            raise AppleMusicConfigError(
                "connection field 'login' (Team ID) is empty: enter the 10-character Team ID "
                "from your Apple Developer account, or set extra 'developer_token'"
            )
        if not _APPLE_ID.match(team_id):
            raise AppleMusicConfigError(
                "connection field 'login' (Team ID) must be 10 upper-case letters or digits, "
                f"got {len(team_id)} characters"
            )
        if key_id is None:
            raise AppleMusicConfigError(
                "connection extra 'key_id' is empty: enter the 10-character Key ID of your MusicKit key"
            )
        if not _APPLE_ID.match(key_id):
            raise AppleMusicConfigError(
                "connection extra 'key_id' must be 10 upper-case letters or digits, "
                f"got {len(key_id)} characters"
            )
        if conn.password and conn.password.strip():
            pem = normalize_pem(conn.password)
        elif extra.get("private_key_path"):
            pem = normalize_pem(_read_key_file(str(extra["private_key_path"])))
        else:
            raise AppleMusicConfigError(
                "connection field 'password' (Private key (.p8)) is empty and no extra "
                "'private_key_path' is set: paste the contents of the .p8 key or give its path"
            )

    storefront = (str(extra.get("storefront") or "")).strip().lower() or None
    if storefront is not None and not _STOREFRONT.match(storefront):
        raise AppleMusicConfigError(
            f"connection extra 'storefront' must be a two-letter storefront code such as 'us', "
            f"got {storefront!r}"
        )
    user_token = (str(extra.get("music_user_token") or "")).strip() or None
    rate = _number(
        extra, {}, "requests_per_second", 0.0, 0, MAX_REQUESTS_PER_SECOND, integer=False, low_inclusive=False
    )
    store = _budget_store(extra, rate)

    return AppleMusicSettings(
        conn_id=conn.conn_id,
        base_url=base_url,
        team_id=team_id,
        key_id=key_id,
        private_key_pem=pem,
        developer_token=developer_token,
        music_user_token=user_token,
        storefront=storefront,
        token_lifetime_seconds=_number(
            extra,
            {},
            "token_lifetime_seconds",
            DEFAULT_TOKEN_LIFETIME_SECONDS,
            MIN_TOKEN_LIFETIME_SECONDS,
            MAX_TOKEN_LIFETIME_SECONDS,
            integer=True,
        ),
        timeout_seconds=_number(
            extra,
            overrides,
            "timeout_seconds",
            DEFAULT_TIMEOUT_SECONDS,
            0,
            3600,
            integer=False,
            low_inclusive=False,
        ),
        max_attempts=_number(extra, overrides, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 100, integer=True),
        max_retry_seconds=_number(
            extra,
            overrides,
            "max_retry_seconds",
            DEFAULT_MAX_RETRY_SECONDS,
            0,
            86400,
            integer=False,
        ),
        requests_per_second=rate or None,
        budget_store=store,
    )


def _budget_store(extra: dict[str, Any], rate: float) -> str | None:
    """Extra ``budget_store``, checked: a Redis URL, and only with ``requests_per_second``."""
    store = str(extra.get("budget_store") or "").strip() or None
    if store is None:
        return None
    scheme = urlsplit(store).scheme
    if scheme not in BUDGET_STORE_SCHEMES:
        raise AppleMusicConfigError(
            "connection extra 'budget_store' must be a Redis URL (redis://, rediss:// or unix://), "
            f"e.g. redis://redis:6379/2, got scheme {scheme!r}"
        )
    if not rate:
        raise AppleMusicConfigError(
            "connection extra 'budget_store' is set but 'requests_per_second' is not: give the "
            "requests a second the developer key may send, shared through the store"
        )
    return store
