"""
The provider's own Sphinx extension: generated pages and the checks that keep the docs honest.

- ``reference/api/<module>.rst``, one page per public module (:data:`PUBLIC_PACKAGES`, less
  :data:`INTERNAL_MODULES`), written at every build, so a new module joins the reference by itself.
- ``_generated/emulator-options.md``: the emulator's options as Markdown tables, from
  ``EmulatorOptions`` (``options_markdown()``), included by the Emulator page.
- A warning (an error under ``-W``) for a public class, method, function, property or module
  without a docstring, and for a parameter without ``:param name:``.
- A warning for an example marker ``# [START name]`` in ``example_dags/`` without its
  ``# [END name]``, or the other way round, or used twice (a marker that a page includes but the
  DAG files lack is already an error of ``literalinclude``).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docstrings import prepare_docstring

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PACKAGE = "airflow_provider_applemusic"

#: the packages (and modules) whose modules make the API reference
PUBLIC_PACKAGES = ["hooks", "operators", "sensors", "triggers", "exceptions", "emulator"]

#: modules of those packages that are machinery, not interface (their names stay out of the
#: reference; the Architecture page describes them)
INTERNAL_MODULES = {
    "hooks.operations",
    "triggers.presence_registry",
    "triggers.wait_conditions",
    "triggers.watched_state",
}

#: the emulator is documented as its package exports it (``__all__``), not module by module
EXPORTING_PACKAGES = {"emulator"}

logger = logging.getLogger(__name__)

#: classes checked already in this build
_checked_classes: set[str] = set()

MARKER = re.compile(r"#\s*\[(START|END)\s+([\w-]+)\]")


def public_modules() -> list[str]:
    """
    The dotted names of the modules the API reference documents, sorted.

    :return: e.g. ``["airflow_provider_applemusic.exceptions", ...]``.
    """
    names = []
    for entry in PUBLIC_PACKAGES:
        module = importlib.import_module(f"{PACKAGE}.{entry}")
        if entry in EXPORTING_PACKAGES or not hasattr(module, "__path__"):
            names.append(module.__name__)
            continue
        for info in pkgutil.iter_modules(module.__path__):
            short = f"{entry}.{info.name}"
            if not info.name.startswith("_") and short not in INTERNAL_MODULES:
                names.append(f"{PACKAGE}.{short}")
    return sorted(names)


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (an unchanged page is not read again)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def generate_pages(app: Sphinx) -> None:
    """
    Write the API reference's pages and the emulator's option tables.

    :param app: the Sphinx application.
    """
    source = Path(app.srcdir)
    api = source / "reference" / "api"
    wanted = set()
    for name in public_modules():
        short = name.removeprefix(f"{PACKAGE}.")
        title = f"``{short}``"
        text = f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n"
        _write_if_changed(api / f"{short}.rst", text)
        wanted.add(f"{short}.rst")
    for stale in api.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    from airflow_provider_applemusic.emulator.options import options_markdown

    _write_if_changed(source / "_generated" / "emulator-options.md", options_markdown())


def _documented_params(lines: list[str]) -> set[str]:
    """The names given ``:param name:`` (or ``:param type name:``, ``:ivar name:``) in a docstring's lines."""
    found = set()
    for line in lines:
        match = re.match(r"\s*:(?:param|ivar)\s+(?:[^:]*\s)?(\*{0,2}\w+)\s*:", line)
        if match:
            found.add(match.group(1).lstrip("*"))
    return found


def _parameters(function: Any) -> list[str]:
    """A callable's named parameters, less ``self``/``cls`` and ``*args``/``**kwargs``."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _constructor(cls: type) -> Any:
    """The class's own ``__init__`` (its parameters are the class's), or None when inherited."""
    init = vars(cls).get("__init__")
    return init if inspect.isfunction(init) else None


def _defined_here(name: str, obj: Any) -> bool:
    """
    Whether autodoc documents ``obj`` under ``name``: defined in that module, or exported by its
    ``__all__`` (autodoc also hands over imported names, which it then leaves out).
    """
    target = obj.fget if isinstance(obj, property) else obj
    qualname = getattr(target, "__qualname__", None)
    if not qualname or not name.endswith(f".{qualname}"):
        return False
    module_name = name[: -len(qualname) - 1]
    exported = getattr(sys.modules.get(module_name), "__all__", None)
    if exported is not None:
        return qualname.split(".")[0] in exported
    return getattr(target, "__module__", None) == module_name


def check_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """
    Warn about a public name of the provider without a docstring or a parameter without ``:param:``.

    :param app: the Sphinx application.
    :param what: the kind of object: ``module``, ``class``, ``exception``, ``method``, ...
    :param name: its dotted name.
    :param obj: the object.
    :param options: the directive's options (unused).
    :param lines: the docstring's lines, as autodoc will render them.
    """
    if not name.startswith(PACKAGE) or any(part.startswith("_") for part in name.split(".")):
        return
    if what not in {"module", "class", "exception", "method", "function", "property"}:
        return
    if what != "module" and not _defined_here(name, obj):
        return
    location = app.env.docname if app.env else None
    if not any(line.strip() for line in lines):
        logger.warning("%s %s has no docstring", what, name, type="provider", location=location)
        return
    documented = _documented_params(lines)
    if what in {"class", "exception"}:
        if name in _checked_classes:  # autodoc hands over the class's and __init__'s docstrings apart
            return
        _checked_classes.add(name)
        init = _constructor(obj)
        wanted = _parameters(init) if init is not None else []
        for doc in (obj.__doc__, getattr(init, "__doc__", None)):
            documented |= _documented_params(prepare_docstring(doc or ""))
        if dataclasses.is_dataclass(obj):  # a field may be documented by its ``#:`` comment
            attr_docs = ModuleAnalyzer.for_module(obj.__module__).find_attr_docs()
            documented |= {attr for (scope, attr) in attr_docs if scope == obj.__qualname__}
    elif what in {"method", "function"}:
        wanted = _parameters(obj)
    else:
        return
    missing = [p for p in wanted if p not in documented]
    if missing:
        logger.warning(
            "%s %s does not document %s with :param:",
            what,
            name,
            ", ".join(missing),
            type="provider",
            location=location,
        )


def check_example_markers(app: Sphinx) -> None:
    """
    Warn about an example marker without its pair, or used twice, in ``example_dags/``.

    :param app: the Sphinx application.
    """
    for path in sorted((Path(app.srcdir).parent / "example_dags").glob("*.py")):
        opened: dict[str, int] = {}
        seen: set[str] = set()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = MARKER.search(line)
            if not match:
                continue
            kind, marker = match.groups()
            where = (str(path), number)
            if kind == "START":
                if marker in seen or marker in opened:
                    logger.warning("example marker %s is used twice", marker, type="provider", location=where)
                opened[marker] = number
            elif opened.pop(marker, None) is None:
                logger.warning("[END %s] has no [START %s]", marker, marker, type="provider", location=where)
            seen.add(marker)
        for marker, number in opened.items():
            logger.warning(
                "[START %s] has no [END %s]", marker, marker, type="provider", location=(str(path), number)
            )


def setup(app: Sphinx) -> dict[str, Any]:
    """
    Register the generators and the checks.

    :param app: the Sphinx application.
    :return: the extension's metadata.
    """
    app.connect("builder-inited", generate_pages)
    app.connect("builder-inited", check_example_markers)
    app.connect("autodoc-process-docstring", check_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
