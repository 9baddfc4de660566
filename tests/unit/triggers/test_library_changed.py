"""LibraryChangedTrigger at construction: bad arguments are refused."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.triggers.library_changed import LibraryChangedTrigger


def test_bad_arguments_are_refused_at_construction() -> None:
    with pytest.raises(AppleMusicConfigError, match="resources may hold only"):
        LibraryChangedTrigger(resources=["recently-added"])
    with pytest.raises(AppleMusicConfigError, match="resources must be a non-empty list"):
        LibraryChangedTrigger(resources="library-albums")
    with pytest.raises(AppleMusicConfigError, match="resources must be a non-empty list"):
        LibraryChangedTrigger(resources=[])
    with pytest.raises(AppleMusicConfigError, match="poll_interval must be a number of seconds >= 1"):
        LibraryChangedTrigger(poll_interval=0.5)
