"""The README links into the docs in at most 200 lines, and the docs' own checks fail when they should."""

from __future__ import annotations

import logging
import re
import types
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import ROOT, import_file

if TYPE_CHECKING:
    import pathlib

README = ROOT / "README.md"
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.fixture(scope="module")
def provider_docs() -> Any:
    return import_file(DOCS / "_ext" / "provider_docs.py", "provider_docs_under_test")


def _fake_app(srcdir: pathlib.Path | None = None) -> Any:
    return types.SimpleNamespace(env=types.SimpleNamespace(docname="reference/api/x"), srcdir=str(srcdir))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_readme_is_at_most_200_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_every_relative_link_of_the_readme_and_the_pages_points_at_a_file() -> None:
    for page in [README, *DOCS.rglob("*.md")]:
        if "_build" in page.parts or "_generated" in page.parts:
            continue
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            assert (page.parent / target).exists(), (
                f"{page.relative_to(ROOT)} links to {target}, which does not exist"
            )


def test_every_page_is_one_click_from_the_readme() -> None:
    linked = {(ROOT / target).resolve() for target in LINK.findall(README.read_text(encoding="utf-8"))}
    pages = [p for p in DOCS.rglob("*.md") if not {"_build", "_generated", "reference"} & set(p.parts)]
    assert len(pages) >= 15
    for page in pages:
        if page.name != "index.md":
            assert page.resolve() in linked, f"README.md does not link to {page.relative_to(ROOT)}"


def _documented(a: int, b: str) -> None:
    """
    Something.

    :param a: a number.
    :param b: a text.
    """


def _half_documented(a: int, b: str) -> None:
    """
    Something.

    :param a: a number.
    """


def test_a_parameter_without_param_is_a_warning(provider_docs: Any, caplog: pytest.LogCaptureFixture) -> None:
    name = f"{provider_docs.PACKAGE}.operators.x.f"
    _half_documented.__qualname__ = "f"
    _half_documented.__module__ = f"{provider_docs.PACKAGE}.operators.x"
    lines = ["Something.", "", ":param a: a number."]
    provider_docs.check_docstring(_fake_app(), "function", name, _half_documented, None, lines)
    assert _warnings(caplog) == [f"function {name} does not document b with :param:"]


def test_a_documented_function_passes_and_a_missing_docstring_is_a_warning(
    provider_docs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    module = f"{provider_docs.PACKAGE}.operators.x"
    for function, qualname in ((_documented, "g"), (_half_documented, "h")):
        function.__qualname__ = qualname
        function.__module__ = module
    lines = ["Something.", "", ":param a: a number.", ":param b: a text."]
    provider_docs.check_docstring(_fake_app(), "function", f"{module}.g", _documented, None, lines)
    assert _warnings(caplog) == []
    provider_docs.check_docstring(_fake_app(), "method", f"{module}.h", _half_documented, None, [""])
    assert _warnings(caplog) == [f"method {module}.h has no docstring"]


def test_example_markers_without_their_pair_are_warnings(
    provider_docs: Any, caplog: pytest.LogCaptureFixture, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "example_dags").mkdir()
    (tmp_path / "example_dags" / "a.py").write_text(
        "# [START howto_a]\nx = 1\n# [END howto_a]\n# [START howto_b]\ny = 2\n# [END howto_c]\n"
    )
    provider_docs.check_example_markers(_fake_app(tmp_path / "docs"))
    assert sorted(_warnings(caplog)) == [
        "[END howto_c] has no [START howto_c]",
        "[START howto_b] has no [END howto_b]",
    ]


def test_the_shipped_example_markers_pair_up(provider_docs: Any, caplog: pytest.LogCaptureFixture) -> None:
    provider_docs.check_example_markers(_fake_app(DOCS))
    assert _warnings(caplog) == []
    markers = re.findall(
        r"\[START (\w+)\]", "".join(p.read_text() for p in (ROOT / "example_dags").glob("*.py"))
    )
    assert len(markers) >= 10
