"""Date windows on dateAdded: half-open, items without it counted, checked arguments."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_applemusic.api.windows import AddedWindow
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

UTC = dt.timezone.utc


def _item(added: str | None) -> dict[str, object]:
    return {"id": "l.1", "attributes": {} if added is None else {"dateAdded": added}}


def test_the_window_is_half_open() -> None:
    window = AddedWindow.from_arguments("2024-03-05", "2024-03-06")
    assert window.keeps(_item("2024-03-05T00:00:00Z"))
    assert window.keeps(_item("2024-03-05T23:59:59Z"))
    assert not window.keeps(_item("2024-03-06T00:00:00Z"))
    assert not window.keeps(_item("2024-03-04T23:59:59Z"))
    assert window.skipped_without_date_added == 0


def test_items_without_date_added_are_left_out_and_counted_only_by_an_active_window() -> None:
    window = AddedWindow(dt.datetime(2024, 1, 1, tzinfo=UTC), None)
    assert not window.keeps(_item(None))
    assert not window.keeps(_item(None))
    assert window.skipped_without_date_added == 2
    everything = AddedWindow.from_arguments(None, "")
    assert not everything.active
    assert everything.keeps(_item(None))
    assert everything.skipped_without_date_added == 0


@pytest.mark.parametrize(
    ("after", "before", "message"),
    [
        ("2024-02-01", "2024-01-01", "added_after must be earlier than added_before"),
        ("2024-02-01", "2024-02-01", "empty data interval"),
        ("yesterday", None, "added_after must be an ISO 8601"),
        (None, 5, "added_before must be an ISO 8601"),
    ],
)
def test_bad_windows_are_refused_naming_the_argument(after: object, before: object, message: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=message):
        AddedWindow.from_arguments(after, before)
