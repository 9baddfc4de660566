"""
The gate in front of the routes: faults, developer tokens, the rate limit per team.

Every API request passes it before it is routed: faults (injected, and the ``*_every`` ones),
the developer token (ES256, signed by a registered key, its team as ``iss``), the rate limit per
team. The routes ask it to check the Music User Token.

:class:`Gate` holds the developer keys (the emulator's own, derived from the seed, and any
added), the tokens seen, accepted and revoked, the rate limit's windows and the faults queued.
"""

from __future__ import annotations

import collections
import hashlib
import re
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.emulator.responses import (
    Response,
    error,
    html_error,
    json_response,
    not_found,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_applemusic.emulator.options import EmulatorOptions
    from airflow_provider_applemusic.emulator.stats import EmulatorStats

#: the documented maximum is 15,777,000 s; tokens over about 180 days are refused in practice
MAX_TOKEN_LIFETIME_SECONDS = 15_552_000
FAULT_KINDS = (
    "404",
    "429",
    "500",
    "500_applied",
    "500_html",
    "503",
    "504",
    "504_html",
    "drop",
    "slow",
    "truncate",
    "no_data",
    "not_json",
)
#: how long the ``slow`` fault keeps a request waiting
SLOW_SECONDS = 60.0


def derive_key(label: str) -> tuple[str, Any]:
    """A P-256 private key derived from ``label`` (deterministic), with the label's SHA-256 hex digest."""
    from cryptography.hazmat.primitives.asymmetric import ec

    digest = hashlib.sha256(label.encode()).hexdigest()
    return digest, ec.derive_private_key(int(digest, 16) % (2**255) + 1, ec.SECP256R1())


def private_pem(private_key: Any) -> str:
    """A private key as unencrypted PKCS#8 PEM, as a developer key's ``.p8`` file holds it."""
    from cryptography.hazmat.primitives import serialization

    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _server_error(html: bool) -> Response:
    if html:
        return html_error(500)
    return error(500, "Upstream Service Error", "Upstream service error.", "50001")


class Gate:
    """The checks and faults in front of the routes; not thread-safe (the server locks)."""

    def __init__(self, options: EmulatorOptions, user_tokens: dict[str, int], revocable_token: str) -> None:
        self.options = options
        #: the Music User Tokens the service knows, by token: the user's number
        self.user_tokens = user_tokens
        #: the Music User Token :meth:`revoke_user_token` refuses (user 0's)
        self.revocable_token = revocable_token
        digest, self.private_key = derive_key(f"apple-music-emulator:{options.seed}")
        self.team_id = "T" + digest[:9].upper()
        self.key_id = "K" + digest[9:18].upper()
        self.public_key = self.private_key.public_key()
        #: the developer keys accepted, by Key ID: ``(team id, public key)``
        self.keys: dict[str, tuple[str, Any]] = {self.key_id: (self.team_id, self.public_key)}
        self.seen_tokens: set[str] = set()
        self.revoked_tokens: set[str] = set()
        #: accepted tokens: ``(exp, team id)``
        self.valid_tokens: dict[str, tuple[float, str]] = {}
        self.user_token_revoked = False
        #: accepted requests of the last second, by team: the rate limit's windows
        self.windows: dict[str, collections.deque[float]] = {}
        #: faults queued: ``[kind, count left, path prefix, offset or None]``
        self.faults: list[list[Any]] = []

    # -- developer keys and tokens -----------------------------------------------------------

    def add_key(self, team_id: str | None) -> tuple[str, str, str]:
        """Register a further developer key of ``team_id`` (None: the own team); its team, Key ID and PEM."""
        team = self.team_id if team_id is None else team_id
        if not isinstance(team, str) or not re.fullmatch(r"[A-Za-z0-9]{10}", team):
            raise ValueError(f"team_id must be 10 letters and digits, got {team_id!r}")
        number = len(self.keys)
        while True:
            digest, private_key = derive_key(f"apple-music-emulator:{self.options.seed}:key:{number}")
            key_id = "K" + digest[:9].upper()
            if key_id not in self.keys:
                break
            number += 1
        self.keys[key_id] = (team, private_key.public_key())
        return team, key_id, private_pem(private_key)

    def revoke_developer_tokens(self) -> None:
        """Refuse (401) every developer token presented so far; fresh tokens are accepted."""
        self.revoked_tokens |= self.seen_tokens
        self.valid_tokens.clear()

    def check_developer_token(self, authorization: str) -> str | Response:
        """The Team ID of a valid developer token (signed by a registered key), else a 401."""
        import jwt

        refused = Response(401, b"")
        if not authorization.startswith("Bearer "):
            return refused
        token = authorization[len("Bearer ") :].strip()
        now = time.time()
        if token in self.revoked_tokens:
            return refused
        known = self.valid_tokens.get(token)
        if known is not None and known[0] > now:
            return known[1]
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
            if not isinstance(key_id, str) or key_id not in self.keys:
                return refused
            team, public_key = self.keys[key_id]
            claims = jwt.decode(
                token,
                public_key,
                algorithms=["ES256"],
                issuer=team,
                options={"require": ["iss", "iat", "exp"], "verify_iat": False},
                leeway=0,
            )
        except jwt.PyJWTError:
            return refused
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int) or not isinstance(exp, int):
            return refused
        if iat > now + 60 or exp - iat > MAX_TOKEN_LIFETIME_SECONDS or exp <= iat:
            return refused
        self.seen_tokens.add(token)
        self.valid_tokens[token] = (float(exp), team)
        return team

    def check_user_token(self, headers: dict[str, str]) -> Response | None:
        """None when the request carries a Music User Token the service accepts, else its refusal."""
        given = headers.get("music-user-token")
        revoked = self.user_token_revoked and given == self.revocable_token
        if revoked and self.options.user_token_refusal == 401:
            return Response(401, b"")
        if not given or given not in self.user_tokens or revoked:
            return error(403, "Forbidden", "Invalid authentication", "40300")
        return None

    # -- faults and the rate limit -------------------------------------------------------------

    def inject(self, kind: str, count: int, path_prefix: str, offset: int | None) -> None:
        """Queue a fault for the next ``count`` requests under ``path_prefix`` (and at ``offset``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        self.faults.append([kind, count, path_prefix, offset])

    def take_fault(self, path: str, query: dict[str, str]) -> str | None:
        """The fault this request gets (counted off its queue entry), or None."""
        for fault in self.faults:
            kind, count, prefix, offset = fault
            if offset is not None and query.get("offset", "0") != str(offset):
                continue
            if count > 0 and path.startswith(prefix):
                fault[1] -= 1
                if fault[1] <= 0:
                    self.faults.remove(fault)
                return str(kind)
        return None

    def screen(
        self, number: int, fault: str | None, authorization: str, stats: EmulatorStats
    ) -> Response | None:
        """
        The answer request ``number`` gets before routing, if any: a fault that stops it (drop,
        slow, 5xx), a refused developer token (401), the rate limit or an injected ``429``.
        """
        options = self.options
        if fault == "drop" or (options.drop_every and number % options.drop_every == 0):
            return Response(0, drop=True)
        if fault == "slow":
            return Response(504, b"", delay=SLOW_SECONDS)
        failing = bool(options.fail_every) and number % options.fail_every == 0
        if fault == "500_html" or fault == "500" or failing:
            return _server_error(fault == "500_html" or options.html_error_bodies)
        if fault == "503":
            if options.html_error_bodies:
                return html_error(503)
            return error(503, "Service Unavailable", "Try again later.", "50301")
        if fault == "504_html" or (fault == "504" and options.html_error_bodies):
            return html_error(504)
        if fault == "504":
            return Response(504, b"<html>Gateway Timeout</html>")
        team = self.check_developer_token(authorization)
        if isinstance(team, Response):
            return team
        if fault == "429" or self._throttled(team):
            stats.throttled_by_team[team] += 1
            response = error(429, "Too Many Requests", "Rate limit exceeded.", "42900")
            if options.retry_after is not None:
                response.headers["Retry-After"] = f"{options.retry_after:g}"
            return response
        return None

    def _throttled(self, team: str) -> bool:
        """Over ``rate_limit`` requests of ``team`` in the last second (else counted)."""
        if not self.options.rate_limit:
            return False
        now = time.monotonic()
        window = self.windows.setdefault(team, collections.deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.options.rate_limit:
            return True
        window.append(now)
        return False

    @staticmethod
    def spoil(fault: str | None, route: Callable[[], Response]) -> Response:
        """
        Route a request that passed :meth:`screen`, with the faults that act at or after
        routing: ``404`` instead of it, ``500_applied`` (carried out, answered 500),
        ``truncate``, ``no_data`` and ``not_json`` on a 200.
        """
        if fault == "404":
            return not_found()
        response = route()
        if fault == "500_applied":  # carried out above; the client is told it failed
            return _server_error(False)
        if fault == "truncate" and response.status == 200:
            response.truncate = True
        elif fault == "no_data" and response.status == 200:
            response = json_response(200, {"meta": {}})
        elif fault == "not_json" and response.status == 200:
            response = Response(200, b"<html>Service temporarily unavailable</html>")
        return response
