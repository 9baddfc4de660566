"""Reading instants: ISO 8601 arguments and the service's ``dateAdded`` (pure functions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError


def parse_instant(value: Any, *, param: str) -> dt.datetime | None:
    """
    An aware UTC datetime from an ISO 8601 string, a date or a datetime; None stays None.

    Naive values and bare dates are taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise AppleMusicConfigError(
                f"{param} must be an ISO 8601 date or datetime such as '2024-03-05' or "
                f"'2024-03-05T00:00:00+00:00', got {value[:60]!r}"
            ) from None
    else:
        raise AppleMusicConfigError(
            f"{param} must be an ISO 8601 string or a datetime, got {type(value).__name__}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def date_added(item: dict[str, Any]) -> dt.datetime | None:
    """An item's ``dateAdded`` as an aware datetime, or None when missing or unreadable."""
    value = (item.get("attributes") or {}).get("dateAdded")
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value, param="dateAdded")
    except AppleMusicConfigError:
        return None
