"""
What changed between two snapshots of a library listing, streamed (pure functions).

Memory grows with the number of ids, not with the records: the previous snapshot is read once
to map each id to a 16-byte digest of the item, the current one is streamed against that map,
and the previous one is read again for the removed items.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

#: attributes that differ between two fetches of the same item, so are not a change: the
#: service hands out artwork from several CDN hosts and URL templates for one unchanged cover
DEFAULT_IGNORED_ATTRIBUTES = ("artwork.url",)
#: change records handed to the writer at a time
BATCH = 1000


def check_ignored(ignored: Any, *, param: str = "ignore_attributes") -> tuple[str, ...]:
    """Attribute paths under ``attributes`` (dotted: ``artwork.url``), checked."""
    if isinstance(ignored, str) or not isinstance(ignored, (list, tuple, set, frozenset)):
        raise AppleMusicConfigError(
            f"{param} must be a list of attribute names such as 'artwork.url', got {ignored!r}"
        )
    for name in ignored:
        if not isinstance(name, str) or not name or any(not part for part in name.split(".")):
            raise AppleMusicConfigError(
                f"{param} must hold attribute names such as 'artwork.url' (dotted for nested "
                f"ones), got {name!r}"
            )
    return tuple(sorted(ignored))


def digest(item: dict[str, Any], ignored: Iterable[str] = DEFAULT_IGNORED_ATTRIBUTES) -> bytes:
    """A digest of ``item`` that leaves out the ``ignored`` attributes and key order."""
    paths = [name.split(".") for name in ignored]
    if paths and isinstance(item.get("attributes"), dict):
        item = {**item, "attributes": _without(item["attributes"], paths)}
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()


def _without(attributes: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    """``attributes`` without the ``paths``; the dicts on each path are copied, the input is untouched."""
    result = dict(attributes)
    for path in paths:
        node = result
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                break
            node[key] = node = dict(child)
        else:
            node.pop(path[-1], None)
    return result


@dataclass
class ChangeCounts:
    """How many items were added, removed and changed, and how many each snapshot held."""

    added: int = 0
    removed: int = 0
    changed: int = 0
    previous: int = 0
    current: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "previous_count": self.previous,
            "current_count": self.current,
        }


def diff_snapshots(
    previous: Callable[[], Iterable[dict[str, Any]]] | None,
    current: Callable[[], Iterable[dict[str, Any]]],
    counts: ChangeCounts,
    ignored: Iterable[str] = DEFAULT_IGNORED_ATTRIBUTES,
) -> Iterator[list[dict[str, Any]]]:
    """
    Batches of change records, ``{"change", "id", "item"}``: added and changed items (the item
    now) in the current snapshot's order, then removed ones (the item before) in the previous
    snapshot's order. ``previous`` and ``current`` open a snapshot's items (``previous`` is
    opened twice; None: no previous snapshot, everything is added). ``counts`` fills as it goes.
    """
    ignored = tuple(ignored)
    before: dict[str, bytes] = {}
    if previous is not None:
        for item in previous():
            before[item["id"]] = digest(item, ignored)
        counts.previous = len(before)
    batch: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in current():
        item_id = item["id"]
        if item_id in seen:
            continue  # the export writes each id once; a hand-made file may not
        seen.add(item_id)
        counts.current += 1
        was = before.pop(item_id, None)
        if was is None:
            counts.added += 1
            batch.append({"change": "added", "id": item_id, "item": item})
        elif was != digest(item, ignored):
            counts.changed += 1
            batch.append({"change": "changed", "id": item_id, "item": item})
        if len(batch) >= BATCH:
            yield batch
            batch = []
    del seen
    if before and previous is not None:
        for item in previous():
            if before.pop(item["id"], None) is not None:
                counts.removed += 1
                batch.append({"change": "removed", "id": item["id"], "item": item})
                if len(batch) >= BATCH:
                    yield batch
                    batch = []
    if batch:
        yield batch
