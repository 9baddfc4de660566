"""Sphinx configuration of the provider's documentation site (``make docs``)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]

from airflow_provider_applemusic import __version__  # noqa: E402

project = "airflow-provider-applemusic"
author = "airflow-provider-applemusic developers"
copyright = "airflow-provider-applemusic developers"
release = version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "provider_docs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# MyST: links between pages are checked ([text](page.md) and [text](page.md#anchor))
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]
suppress_warnings: list[str] = []

# the API reference: every public member, documented or not (provider_docs fails undocumented ones)
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autoclass_content = "both"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_member_order = "bysource"

# cross-references to the provider's own names must resolve; the rest (Airflow, the standard
# library, third parties) have no inventory offline and are left as text
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!airflow_provider_applemusic\b).*"),
    # the machinery the reference leaves out (the Architecture page describes it) and private names
    (r"py:.*", r"airflow_provider_applemusic\.(api|transport|files)\b.*"),
    (
        r"py:.*",
        r"airflow_provider_applemusic\.emulator\.(?!(AppleMusicEmulator|EmulatorOptions|EmulatorStats)\b).*",
    ),
    (
        r"py:.*",
        r"airflow_provider_applemusic\.(hooks\.operations|triggers\.(presence_registry|wait_conditions|watched_state))\b.*",
    ),
    (r"py:.*", r".*\._\w+.*"),
]

html_theme = "alabaster"
html_title = f"{project} {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Apache Airflow 3 provider for the Apple Music API",
    "fixed_sidebar": True,
    "page_width": "1240px",
    "sidebar_width": "300px",
    "body_max_width": "none",
}
