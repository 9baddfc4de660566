"""
Error mapping: one response (status, headers, body) to a result or an exception, the same for
the sync and async sends. Nothing here logs or formats a header, a token or a key.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicError,
    AppleMusicRateLimitError,
    AppleMusicRequestError,
    AppleMusicSubscriptionError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.transport.retries import (
    RETRYABLE_SERVER_STATUSES,
    TransientError,
    parse_retry_after,
)

_E = TypeVar("_E", bound=AppleMusicRequestError)

#: Apple's code and title for an account that may not use the library (no subscription)
INSUFFICIENT_PRIVILEGES = ("40015", "Insufficient Privileges")
#: the query parameter of the language tag (the provider's ``language``)
LANGUAGE_PARAMETER = "l"


#: an HTML error page's title (gateways answer 5xx with such pages, not JSON)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
#: the longest title taken from an HTML error page
HTML_TITLE_MAX = 80


def html_title(body: bytes) -> str | None:
    """The short title of an HTML error page (``504 Gateway Timeout``), never the page itself."""
    match = _HTML_TITLE.search(body[:4096])
    if match is None:
        return None
    text = " ".join(html.unescape(match.group(1).decode("utf-8", "replace")).split())
    return text[:HTML_TITLE_MAX] or None


def apple_error_fields(body: bytes) -> dict[str, str | None]:
    """
    ``title``, ``detail``, ``code`` and the ``source.parameter`` of Apple's first error; of an
    HTML error page, its title only.
    """
    fields: dict[str, str | None] = {"title": None, "detail": None, "code": None, "parameter": None}
    try:
        errors = json.loads(body)["errors"]
        first = errors[0]
    except (ValueError, KeyError, IndexError, TypeError):
        fields["title"] = html_title(body)
        return fields
    if not isinstance(first, Mapping):
        return fields
    for name in ("title", "detail", "code"):
        if first.get(name) is not None:
            fields[name] = str(first[name])
    source = first.get("source")
    if isinstance(source, Mapping) and source.get("parameter"):
        fields["parameter"] = str(source["parameter"])
    return fields


def _describe(status: int | None, fields: Mapping[str, str | None]) -> str:
    parts = [str(status) if status is not None else "no response"]
    title = fields.get("title")
    if title:
        # an HTML page's title often starts with the status already ("504 Gateway Timeout")
        parts = [title] if status is not None and title.startswith(f"{status} ") else [*parts, title]
    text = " ".join(parts)
    if fields.get("detail"):
        text += f": {fields['detail']}"
    extras = []
    if fields.get("code"):
        extras.append(f"code {fields['code']}")
    if fields.get("parameter"):
        extras.append(f"parameter {fields['parameter']}")
    if extras:
        text += f" ({', '.join(extras)})"
    return text


def request_error(
    method: str,
    path: str,
    status: int | None,
    body: bytes,
    *,
    cls: type[_E] = AppleMusicRequestError,  # type: ignore[assignment]
    hint: str = "",
) -> _E:
    """Build the exception for a failed request from Apple's error body."""
    fields = apple_error_fields(body)
    message = f"Apple Music {method} {path} failed with {_describe(status, fields)}"
    if hint:
        message += f"; {hint}"
    error = cls(
        message,
        status=status,
        code=fields["code"],
        title=fields["title"],
        detail=fields["detail"],
        path=path,
    )
    return error


def connection_failure(method: str, path: str, err: BaseException) -> TransientError:
    """A connection error or timeout: no response came; retryable."""
    final = AppleMusicRequestError(
        f"Apple Music {method} {path} got no response ({type(err).__name__})", path=path
    )
    return TransientError(final)


class TruncatedListingError(AppleMusicRequestError):
    """
    A listing page past offset 0 came back missing (404) or without ``data`` after ``next``
    promised more, again and again within the retry budget.

    :param offset: the offset of the page.
    """

    def __init__(self, message: str, *, offset: int, status: int | None, path: str) -> None:
        super().__init__(message, status=status, path=path)
        self.offset = offset


class EmptyListing(dict[str, Any]):
    """
    The body standing for a listing's 404 at offset 0: an empty collection, unless the rules
    of :mod:`~airflow_provider_applemusic.empty_listings` find the account hides the listing.
    """


def empty_listing() -> dict[str, Any]:
    """The body of an empty collection (the service answers it with 404 at offset 0)."""
    return EmptyListing(data=[], meta={"total": 0})


def is_empty_listing(body: object) -> bool:
    """True for the body :func:`evaluate_response` gives for a listing's 404 at offset 0."""
    return isinstance(body, EmptyListing)


def _truncated(method: str, path: str, status: int, offset: int, what: str) -> TransientError:
    return TransientError(
        TruncatedListingError(
            f"Apple Music {method} {path} answered the page at offset {offset} with {what}, "
            "again and again within the retry budget, though the listing goes on past it",
            offset=offset,
            status=status,
            path=path,
        ),
        reason=f"Apple Music {method} {path} answered the page at offset {offset} with {what}",
    )


def _is_insufficient_privileges(status: int, body: bytes) -> bool:
    if status not in (400, 403):
        return False
    code, title = INSUFFICIENT_PRIVILEGES
    fields = apple_error_fields(body)
    return fields["code"] == code or (fields["title"] or "").strip() == title


def subscription_error(method: str, path: str, status: int, body: bytes) -> AppleMusicSubscriptionError:
    """The error for "Insufficient Privileges": the account lacks a subscription or Sync Library."""
    return request_error(
        method,
        path,
        status,
        body,
        cls=AppleMusicSubscriptionError,
        hint="the Apple Music account may not use the library: it needs an active Apple Music "
        "subscription with Sync Library (iCloud Music Library) turned on",
    )


def developer_token_probe_path(storefront: str | None) -> str:
    """A request that needs the developer token only: tells which token a 401 was about."""
    return f"/v1/storefronts/{storefront or 'us'}"


def user_token_refused_401(method: str, path: str, conn_id: str, probe_path: str) -> AppleMusicUserTokenError:
    """A 401 on a user request while the developer token alone was accepted on ``probe_path``."""
    return AppleMusicUserTokenError(
        f"the Music User Token was refused (401) on {method} {path}: the developer token is "
        f"valid (GET {probe_path} with it alone succeeded), so the user token is invalid, "
        "expired or revoked; mint a new one with MusicKit and update extra 'music_user_token' "
        f"of connection '{conn_id}'",
        status=401,
    )


def either_token_401(
    refused: AppleMusicDeveloperTokenError, probe_failure: AppleMusicError
) -> AppleMusicDeveloperTokenError:
    """A 401 that the developer-token-only check could not attribute (it failed otherwise)."""
    return AppleMusicDeveloperTokenError(
        f"{refused}; the check with the developer token alone failed too ({probe_failure}), so "
        "either token may be at fault: the developer token, or the Music User Token",
        status=401,
    )


@dataclass(frozen=True)
class CallContext:
    """What :func:`evaluate_response` needs to know about the call besides the response."""

    method: str
    path: str
    conn_id: str
    can_remint: bool
    pre_minted: bool = False


#: what a 404 means to the caller: an error (``raise``), nothing (``none``: returned as None), an
#: empty listing (``empty``: a listing's first page), or a page the service lost for a moment
#: (``retry``: retried, in the end a :class:`TruncatedListingError`); the listing rules decide
NotFound = Literal["raise", "none", "empty", "retry"]


def evaluate_response(
    ctx: CallContext,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    expect_json: bool = True,
    expect_data: bool = False,
    not_found: NotFound = "raise",
    offset: int | None = None,
) -> Any:
    """
    Map one response to a result or an exception, the same for sync and async callers.

    Returns the decoded JSON body (None when ``expect_json`` is false). Raises
    :class:`TransientError` for what another attempt may cure (429, 5xx listed in
    ``RETRYABLE_SERVER_STATUSES``, a 2xx body that is not JSON or, with ``expect_data``, lacks
    the ``data`` list, a 401 when a new token can be minted) and an :class:`AppleMusicError` for
    everything else.

    :param not_found: what a 404 means (:data:`NotFound`); with ``retry``, a body without
        ``data`` is a truncation too.
    :param offset: the listing page's offset, for the messages of a truncation.
    """
    method, path = ctx.method, ctx.path
    if status == 404 and not_found != "raise":
        if not_found == "empty":
            return empty_listing()
        if not_found == "none":
            return None
        raise _truncated(method, path, status, offset or 0, "404")
    if 200 <= status < 300:
        return _success(ctx, status, body, expect_json, expect_data, not_found, offset)
    raise _failure(ctx, status, headers, body)


def _success(
    ctx: CallContext,
    status: int,
    body: bytes,
    expect_json: bool,
    expect_data: bool,
    not_found: NotFound,
    offset: int | None,
) -> Any:
    """A 2xx answer's decoded body; a damaged one is transient (a truncation on a listing page)."""
    method, path = ctx.method, ctx.path
    if not expect_json:
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        raise TransientError(
            AppleMusicRequestError(
                f"Apple Music {method} {path} answered {status} with a body that is not "
                "valid JSON (truncated or corrupted)",
                status=status,
                path=path,
            )
        ) from None
    if not isinstance(decoded, dict):
        raise TransientError(
            AppleMusicRequestError(
                f"Apple Music {method} {path} answered {status} with JSON that is not an object",
                status=status,
                path=path,
            )
        )
    if expect_data and not isinstance(decoded.get("data"), list):
        if not_found == "retry":
            raise _truncated(method, path, status, offset or 0, "a body without 'data'")
        raise TransientError(
            AppleMusicRequestError(
                f"Apple Music {method} {path} answered {status} without a 'data' list, again and again",
                status=status,
                path=path,
            ),
            reason=f"Apple Music {method} {path} answered {status} without a 'data' list",
        )
    return decoded


def _failure(ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> AppleMusicError:
    """The error of an answer that is not a 2xx (a :class:`TransientError` for what may pass)."""
    method, path = ctx.method, ctx.path
    if _is_insufficient_privileges(status, body):
        return subscription_error(method, path, status, body)
    if status in (401, 403):
        return _refused(ctx, status, body)
    if status == 429:
        final = request_error(
            method,
            path,
            status,
            body,
            cls=AppleMusicRateLimitError,
            hint="the rate limit did not clear within the retry budget: lower the concurrency, "
            "or raise max_attempts / max_retry_seconds",
        )
        return TransientError(
            final,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            reason=f"Apple Music {method} {path} answered {_describe(status, apple_error_fields(body))}",
        )
    if status in RETRYABLE_SERVER_STATUSES:
        final = request_error(
            method,
            path,
            status,
            body,
            hint="the service kept failing within the retry budget; try again later",
        )
        return TransientError(
            final,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            reason=f"Apple Music {method} {path} answered {_describe(status, apple_error_fields(body))}",
        )
    if status == 400 and apple_error_fields(body)["parameter"] == LANGUAGE_PARAMETER:
        return AppleMusicConfigError(
            f"language was refused by the service on {method} {path} "
            f"({_describe(status, apple_error_fields(body))}): it must be a language tag the "
            "service reads, such as 'en-US' or 'fr'"
        )
    return request_error(method, path, status, body)


def _refused(ctx: CallContext, status: int, body: bytes) -> AppleMusicError:
    """A refused token: 401 (the developer token, re-minted once when it can be) or 403 (the user's)."""
    method, path = ctx.method, ctx.path
    if status == 401:
        if ctx.pre_minted:
            return AppleMusicDeveloperTokenError(
                f"the pre-minted developer token in extra 'developer_token' of connection "
                f"'{ctx.conn_id}' was refused (401) on {method} {path}: it cannot be re-minted; "
                "replace it, or remove it so the hook mints its own from Team ID, Key ID and key",
                status=401,
            )
        refused = AppleMusicDeveloperTokenError(
            f"the developer token was refused (401) on {method} {path} even after minting a "
            f"fresh one: check the Team ID, the Key ID and that the .p8 key of connection "
            f"'{ctx.conn_id}' is still active in your Apple Developer account",
            status=401,
        )
        if ctx.can_remint:
            return TransientError(
                refused,
                retry_after=0.0,
                remint=True,
                reason=f"Apple Music {method} {path} refused the developer token (401): minting a fresh one",
            )
        return refused
    fields = apple_error_fields(body)
    said = f" ({_describe(status, fields)})" if fields["title"] else ""
    return AppleMusicUserTokenError(
        f"the Music User Token was refused (403) on {method} {path}{said}: it is invalid, "
        "expired or revoked, or the user withdrew access; mint a new one with MusicKit and "
        f"update extra 'music_user_token' of connection '{ctx.conn_id}'",
        status=403,
    )
