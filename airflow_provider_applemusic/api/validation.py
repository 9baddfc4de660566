"""Checks of operator and hook arguments that are not ids: page sizes, concurrency, storefronts, languages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.ids import short_repr
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_PAGE_SIZE = 100
MAX_CONCURRENCY = 64
_STOREFRONT = re.compile(r"^[a-z]{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")


def validate_storefront(value: Any, *, param: str = "storefront") -> str | None:
    """Return a two-letter storefront code (or None), else raise naming ``param``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _STOREFRONT.match(value):
        raise AppleMusicConfigError(
            f"{param} must be a two-letter lower-case storefront code such as 'us', got {short_repr(value)}"
        )
    return value


def validate_language(value: Any, *, param: str = "language") -> str | None:
    """Return a language tag such as ``en-US`` (or None), else raise naming ``param``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise AppleMusicConfigError(
            f"{param} must be a language tag such as 'en-US', got {short_repr(value)}"
        )
    return value


def validate_page_size(page_size: Any, *, param: str = "page_size", maximum: int = MAX_PAGE_SIZE) -> int:
    """Return ``page_size`` if it is an integer from 1 to ``maximum``, else raise naming ``param``."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not (1 <= page_size <= maximum):
        raise AppleMusicConfigError(f"{param} must be an integer from 1 to {maximum}, got {page_size!r}")
    return page_size


def validate_concurrency(value: Any, *, param: str = "max_concurrency") -> int:
    """Return ``value`` if it is an integer from 1 to 64 (requests or pages at once), else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not (1 <= value <= MAX_CONCURRENCY):
        raise AppleMusicConfigError(f"{param} must be an integer from 1 to {MAX_CONCURRENCY}, got {value!r}")
    return value


def validate_seconds(value: Any, *, param: str, minimum: float = 0) -> float:
    """Return ``value`` as seconds if it is a number of at least ``minimum``, else raise naming ``param``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= minimum:
        raise AppleMusicConfigError(f"{param} must be a number of seconds >= {minimum:g}, got {value!r}")
    return float(value)


def join_include(include: Iterable[str] | str | None, *, param: str = "include") -> str | None:
    """Turn ``include`` (a list of relationship names, or one string) into the API's value."""
    if include is None:
        return None
    names = [n for n in include.split(",") if n.strip()] if isinstance(include, str) else list(include)
    cleaned = []
    for name in names:
        if not isinstance(name, str) or not name.strip().replace("-", "").isalnum():
            raise AppleMusicConfigError(
                f"{param} must be relationship names such as ['catalog', 'artists'], got {name!r}"
            )
        cleaned.append(name.strip())
    return ",".join(cleaned) or None


def join_extend(extend: Iterable[str] | str | None, *, required: Iterable[str] = ()) -> str:
    """
    The API's ``extend`` value: the ``required`` attributes, then those of ``extend`` not yet
    named (checked like ``include``, errors naming ``extend``).
    """
    names = list(dict.fromkeys([*required, *(join_include(extend, param="extend") or "").split(",")]))
    return ",".join(name for name in names if name)
