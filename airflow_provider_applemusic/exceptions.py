"""Exceptions raised by the Apple Music provider; none of them ever carries a token or a key."""

from __future__ import annotations


class AppleMusicError(Exception):
    """Base class of every error raised by this provider."""


class AppleMusicConfigError(AppleMusicError, ValueError):
    """A connection field or a parameter is missing or malformed; raised before any request."""


class _TokenRefused(AppleMusicError):
    """A refused token; ``status`` is the HTTP status the service answered (401 or 403)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AppleMusicDeveloperTokenError(_TokenRefused):
    """The service refused the developer token (401), even after minting a fresh one."""


class AppleMusicUserTokenError(_TokenRefused):
    """
    The service refused the Music User Token: 403, or a 401 that a request carrying only the
    developer token showed to be about the user token. Waiting or retrying cannot cure it.
    """


class AppleMusicRequestError(AppleMusicError):
    """
    Any other failed request, with what Apple said about it.

    :param message: the human-readable explanation.
    :param status: HTTP status, or None when no response came (connection error, timeout).
    :param code: Apple's error code (``errors[].code``), when given.
    :param title: Apple's error title, when given.
    :param detail: Apple's error detail, when given.
    :param path: the request path (never the headers, never a token).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.path = path


class AppleMusicRateLimitError(AppleMusicRequestError):
    """The service kept answering 429 until the retry budget was spent."""


class AppleMusicSubscriptionError(AppleMusicRequestError):
    """
    The account may not use the library ("Insufficient Privileges", code 40015): it needs an
    Apple Music subscription with Sync Library (iCloud Music Library) on. Not retried.
    """


class AppleMusicListingUnavailableError(AppleMusicRequestError):
    """
    The account does not serve a listing: it answers 404, as for an empty collection, though
    the library holds items that belong in it (reported for ``/v1/me/library/songs`` on some
    accounts). Asking again cannot cure it; nothing is returned rather than an empty listing.
    """


#: errors that asking again cannot cure: a trigger ends (a watcher reports them) at once
INCURABLE_ERRORS: tuple[type[AppleMusicError], ...] = (
    AppleMusicUserTokenError,
    AppleMusicDeveloperTokenError,
    AppleMusicSubscriptionError,
    AppleMusicListingUnavailableError,
    AppleMusicConfigError,
)
