"""RecentlyPlayedTrigger at construction: bad arguments are refused, one state key per connection."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.triggers.recently_played import RecentlyPlayedTrigger


def test_a_poll_interval_under_a_second_is_refused() -> None:
    with pytest.raises(AppleMusicConfigError, match="poll_interval must be a number of seconds >= 1"):
        RecentlyPlayedTrigger(poll_interval=0.5)


def test_each_connection_keeps_its_own_list() -> None:
    one, other = RecentlyPlayedTrigger("one"), RecentlyPlayedTrigger("other")
    assert one.state_key.startswith("applemusic.recently_played:")
    assert one.state_key != other.state_key
    assert RecentlyPlayedTrigger("one").state_key == one.state_key
