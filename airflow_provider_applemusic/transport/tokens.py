"""Developer tokens: ES256 JWTs minted from Team ID, Key ID and the ``.p8`` key, cached and renewed."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey


def mask(value: str | None) -> None:
    """Register a secret with Airflow's secrets masker (a no-op for empty values)."""
    if not value:
        return
    from airflow.sdk.log import mask_secret

    mask_secret(value)


def token_team(token: str) -> str | None:
    """The Team ID a developer token was issued by (its ``iss`` claim, read unverified), or None."""
    import jwt

    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) and issuer else None


def mask_private_key(pem: str) -> None:
    """Mask the key as a whole, its base64 body, and each of its lines."""
    mask(pem)
    mask(pem.strip())
    body_lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    mask("".join(body_lines))
    for line in body_lines:
        if len(line) >= 8:
            mask(line)


def load_private_key(pem: str) -> EllipticCurvePrivateKey:
    """
    Parse a ``.p8`` key (PEM, PKCS#8) and check that it is an EC P-256 key.

    Errors name the connection field and never quote the key.
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise AppleMusicConfigError(
            "connection field 'password' (Private key (.p8)) does not hold a readable PEM "
            "private key: paste the whole .p8 file, including the BEGIN/END PRIVATE KEY lines"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise AppleMusicConfigError(
            "connection field 'password' (Private key (.p8)) holds a key that is not EC P-256: "
            "Apple Music developer tokens are signed with ES256, use the MusicKit .p8 key"
        )
    return key


class DeveloperTokenMinter:
    """
    Mint and cache developer tokens for one Team ID, Key ID and key.

    A token is renewed shortly before it expires (the last tenth of its lifetime, at most five
    minutes before), or at once after :meth:`invalidate` (the service answered 401).

    :param team_id: the 10-character Team ID (claim ``iss``).
    :param key_id: the 10-character Key ID (header ``kid``).
    :param private_key_pem: the ``.p8`` key, PEM.
    :param lifetime_seconds: seconds from ``iat`` to ``exp``.
    """

    def __init__(self, team_id: str, key_id: str, private_key_pem: str, lifetime_seconds: int) -> None:
        self.team_id = team_id
        self.key_id = key_id
        self.lifetime_seconds = lifetime_seconds
        self._key = load_private_key(private_key_pem)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.minted = 0

    def __repr__(self) -> str:
        return f"DeveloperTokenMinter(team_id={self.team_id!r}, key_id={self.key_id!r})"

    @property
    def _refresh_margin(self) -> float:
        return min(300.0, self.lifetime_seconds / 10)

    def token(self) -> str:
        """Return a valid token, minting one when none is cached or the cached one is due."""
        minted = False
        # mask outside the lock: in the triggerer, mask_secret suspends the coroutine through
        # greenback while the loop runs on, and a trigger sharing this minter would then block
        # the event loop on the lock forever
        with self._lock:
            token = self._token
            if token is None or time.time() >= self._expires_at - self._refresh_margin:
                token = self._mint()
                minted = True
        if minted:
            mask(token)
        return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (refused by the service) so that the next call mints a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _mint(self) -> str:
        import jwt

        now = int(time.time())
        expires = now + self.lifetime_seconds
        claims = {"iss": self.team_id, "iat": now, "exp": expires}
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.key_id})
        self._token = token
        self._expires_at = float(expires)
        self.minted += 1
        return token


_MINTERS: dict[tuple[str, str, str, int], DeveloperTokenMinter] = {}
_MINTERS_LOCK = threading.Lock()


def get_minter(
    team_id: str, key_id: str, private_key_pem: str, lifetime_seconds: int
) -> DeveloperTokenMinter:
    """Return the process-wide minter for this Team ID, Key ID, key and lifetime."""
    fingerprint = hashlib.sha256(private_key_pem.encode("utf-8")).hexdigest()
    cache_key = (team_id, key_id, fingerprint, lifetime_seconds)
    created = False
    with _MINTERS_LOCK:
        minter = _MINTERS.get(cache_key)
        if minter is None:
            minter = DeveloperTokenMinter(team_id, key_id, private_key_pem, lifetime_seconds)
            _MINTERS[cache_key] = minter
            created = True
    if created:
        # outside the lock: in the triggerer, masking suspends the coroutine (greenback) and
        # another trigger on the same event loop would block on the lock forever
        mask_private_key(private_key_pem)
    return minter
