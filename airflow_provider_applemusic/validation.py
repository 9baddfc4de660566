"""Checks of operator and hook arguments that are not ids: templates, storefronts, languages."""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.ids import short_repr

_STOREFRONT = re.compile(r"^[a-z]{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")


def is_template(value: Any) -> bool:
    """True for a string Airflow will render (checked again at run time, once rendered)."""
    return isinstance(value, str) and "{{" in value


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
