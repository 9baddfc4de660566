"""The many-users example DAG's own logic, without a run: its connection id lists are checked."""

from __future__ import annotations

import pytest

from tests.support import ROOT, import_file

EXAMPLE = ROOT / "example_dags" / "applemusic_many_users_export.py"


def test_connection_id_lists_are_checked() -> None:
    module = import_file(EXAMPLE, "example_many_users")
    assert module.checked_conn_ids(["a", " b "], "conf") == ["a", "b"]
    for bad in ([], "a", ["a", ""], ["a", 3], None):
        with pytest.raises(
            ValueError, match="conf must be a non-empty JSON list of apple_music connection ids"
        ):
            module.checked_conn_ids(bad, "conf")
    with pytest.raises(ValueError, match="names a connection more than once"):
        module.checked_conn_ids(["a", "a"], "conf")
    assert module.dag.params["apple_music_conn_ids"] is None
