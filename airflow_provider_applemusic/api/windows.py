"""Date windows on ``dateAdded``: which listed items an export keeps (API knowledge, not file side)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.dates import date_added, parse_instant
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    import datetime as dt


class AddedWindow:
    """
    The half-open window ``[after, before)`` on ``dateAdded``; items without it are counted.

    :param after: the window's start (inclusive), or None.
    :param before: the window's end (exclusive), or None.
    """

    def __init__(self, after: dt.datetime | None, before: dt.datetime | None) -> None:
        if after is not None and before is not None and after >= before:
            hint = (
                " (Airflow 3's default cron schedule gives runs an empty data interval: use "
                "CronTriggerTimetable(..., interval=timedelta(days=1)) for daily windows)"
                if after == before
                else ""
            )
            raise AppleMusicConfigError(
                f"added_after must be earlier than added_before, got {after.isoformat()} >= "
                f"{before.isoformat()}{hint}"
            )
        self.after = after
        self.before = before
        self.skipped_without_date_added = 0

    @property
    def active(self) -> bool:
        return self.after is not None or self.before is not None

    def keeps(self, item: dict[str, Any]) -> bool:
        """True when ``item`` belongs in the export."""
        if not self.active:
            return True
        added = date_added(item)
        if added is None:
            self.skipped_without_date_added += 1
            return False
        if self.after is not None and added < self.after:
            return False
        return self.before is None or added < self.before

    @classmethod
    def from_arguments(cls, added_after: Any, added_before: Any) -> AddedWindow:
        """The window from rendered ``added_after`` and ``added_before`` (ISO 8601 or datetimes)."""
        return cls(
            parse_instant(added_after, param="added_after"),
            parse_instant(added_before, param="added_before"),
        )
