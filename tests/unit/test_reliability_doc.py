"""``docs/reliability.md`` cites test files and tests that exist (they move with the tiers)."""

from __future__ import annotations

import re

from tests.support import ROOT


def test_every_test_file_and_test_the_reliability_doc_cites_exists() -> None:
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py)`(?: \(([^)]*)\))?", doc)
    assert len(cited) > 40
    for path, names in cited:
        assert (ROOT / path).is_file(), f"docs/reliability.md cites {path}, which does not exist"
        source = (ROOT / path).read_text(encoding="utf-8")
        for name in re.findall(r"`(test_\w+)`", names):
            assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path} has no {name}"
