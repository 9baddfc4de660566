"""
Standard codes to catalog ids: ISRCs (songs) and UPC/EAN (albums), checked, batched, chosen.

Pure functions; the hook sends the look-ups (``GET /v1/catalog/{sf}/songs?filter[isrc]=...``
and ``/albums?filter[upc]=...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_applemusic.api.ids import chunks, short_repr
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

#: codes per look-up. Apple documents no limit for ``filter[isrc]``/``filter[upc]``; one code
#: may match several items, so a batch of 25 keeps each answer well inside the catalog's
#: 100-resource answers and every URL short. The emulator refuses more.
CODES_PER_REQUEST = 25
#: (type, filter name, pattern, what is allowed) per kind of code
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
_UPC = re.compile(r"^[0-9]{12,13}$")
CODE_KINDS = {
    "isrcs": ("songs", "isrc", _ISRC, "2 letters, 3 letters or digits, 7 digits"),
    "upcs": ("albums", "upc", _UPC, "12 (UPC) or 13 (EAN) digits"),
}
_SEPARATORS = re.compile(r"[\s\-]")


def normalize_codes(values: Any, param: str) -> list[str]:
    """
    ``values`` (a list, or one comma-separated string) normalised (upper case, dashes and spaces
    removed), checked and de-duplicated in order; errors name ``param`` and the bad code.
    """
    _, _, pattern, allowed = CODE_KINDS[param]
    if values is None:
        return []
    if isinstance(values, str):
        candidates: Iterable[Any] = values.split(",")
    elif isinstance(values, Iterable) and not isinstance(values, (bytes, Mapping)):
        candidates = values
    else:
        raise AppleMusicConfigError(f"{param} must be a list of codes, got {type(values).__name__}")
    result: list[str] = []
    for raw in candidates:
        if not isinstance(raw, str):
            raise AppleMusicConfigError(f"{param} holds {short_repr(raw)}, not a string code")
        code = _SEPARATORS.sub("", raw).upper()
        if not code and isinstance(values, str):
            continue
        if not pattern.match(code):
            raise AppleMusicConfigError(f"{param} holds {short_repr(raw)}: a code is {allowed}")
        if code not in result:
            result.append(code)
    return result


def code_lookups(param: str, codes: list[str], storefront: str) -> list[tuple[str, dict[str, str]]]:
    """``(path, params)`` of each look-up for ``codes``, at most :data:`CODES_PER_REQUEST` each."""
    kind, name, _, _ = CODE_KINDS[param]
    return [
        (f"/v1/catalog/{storefront}/{kind}", {f"filter[{name}]": ",".join(batch)})
        for batch in chunks(codes, CODES_PER_REQUEST)
    ]


def matches_by_code(body: Mapping[str, Any], param: str) -> dict[str, list[dict[str, Any]]]:
    """The catalog resources of a look-up answer, grouped by the code they carry."""
    _, name, _, _ = CODE_KINDS[param]
    found: dict[str, list[dict[str, Any]]] = {}
    for resource in body.get("data") or []:
        if not isinstance(resource, Mapping) or "id" not in resource:
            continue
        code = (resource.get("attributes") or {}).get(name)
        if isinstance(code, str):
            found.setdefault(_SEPARATORS.sub("", code).upper(), []).append(dict(resource))
    return found


def choose(resources: list[dict[str, Any]]) -> str | None:
    """
    The one catalog id to add when a code matches several items: the earliest release (the
    original, not a later compilation or remaster), then the smallest numeric id. None when
    nothing matched.
    """
    if not resources:
        return None

    def rank(resource: dict[str, Any]) -> tuple[str, int, str]:
        released = (resource.get("attributes") or {}).get("releaseDate")
        identifier = str(resource["id"])
        return (
            released if isinstance(released, str) and released else "9999",
            int(identifier) if identifier.isdigit() else 0,
            identifier,
        )

    return str(min(resources, key=rank)["id"])
