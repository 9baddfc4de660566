"""Change logs between two snapshots, as pure functions: digests, the ignored attributes, the diff."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files import changes
from airflow_provider_applemusic.files.changes import ChangeCounts, check_ignored, diff_snapshots, digest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


def _album(item_id: str, name: str, artwork: str = "https://a.example/1.jpg") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "library-albums",
        "attributes": {"name": name, "artwork": {"url": artwork, "width": 1200}},
    }


def _opener(items: Iterable[dict[str, Any]]) -> Callable[[], Iterable[dict[str, Any]]]:
    kept = list(items)
    return lambda: iter(kept)


def _diff(
    previous: list[dict[str, Any]] | None, current: list[dict[str, Any]], **kwargs: Any
) -> tuple[list[tuple[str, str]], ChangeCounts]:
    counts = ChangeCounts()
    batches = diff_snapshots(
        None if previous is None else _opener(previous), _opener(current), counts, **kwargs
    )
    records = [(record["change"], record["id"]) for batch in batches for record in batch]
    return records, counts


def test_ignored_attributes_are_checked_and_sorted() -> None:
    assert check_ignored(["b.c", "a"]) == ("a", "b.c")
    assert check_ignored(()) == ()


@pytest.mark.parametrize("ignored", ["artwork.url", None, 5, ["a..b"], [""], [".a"], [3]])
def test_bad_ignored_attributes_are_refused_naming_the_parameter(ignored: Any) -> None:
    with pytest.raises(AppleMusicConfigError, match="ignore_attributes must"):
        check_ignored(ignored)


def test_the_digest_leaves_out_key_order_and_ignored_attributes_and_keeps_the_item() -> None:
    item = _album("l.1", "A", artwork="https://cdn1.example/x.jpg")
    untouched = copy.deepcopy(item)
    other_cdn = _album("l.1", "A", artwork="https://cdn2.example/{w}x{h}.jpg")
    reordered = dict(reversed(list(item.items())))
    assert digest(item) == digest(other_cdn) == digest(reordered)
    assert digest(item, ()) != digest(other_cdn, ())
    assert digest(item) != digest(_album("l.1", "B"))
    assert item == untouched
    assert len(digest(item)) == 16


def test_added_and_changed_come_in_current_order_then_removed_in_previous_order() -> None:
    previous = [_album("l.1", "A"), _album("l.2", "B"), _album("l.3", "C"), _album("l.4", "D")]
    current = [
        _album("l.5", "E"),
        _album("l.3", "C2"),
        _album("l.1", "A", artwork="other"),
        _album("l.0", "Z"),
    ]
    records, counts = _diff(previous, current)
    assert records == [
        ("added", "l.5"),
        ("changed", "l.3"),
        ("added", "l.0"),
        ("removed", "l.2"),
        ("removed", "l.4"),
    ]
    assert counts.as_dict() == {
        "added": 2,
        "removed": 2,
        "changed": 1,
        "previous_count": 4,
        "current_count": 4,
    }


def test_records_carry_the_item_now_or_before() -> None:
    counts = ChangeCounts()
    batches = diff_snapshots(_opener([_album("l.1", "old")]), _opener([_album("l.2", "new")]), counts)
    records = [record for batch in batches for record in batch]
    assert records == [
        {"change": "added", "id": "l.2", "item": _album("l.2", "new")},
        {"change": "removed", "id": "l.1", "item": _album("l.1", "old")},
    ]


def test_without_a_previous_snapshot_everything_is_added() -> None:
    records, counts = _diff(None, [_album("l.1", "A"), _album("l.2", "B")])
    assert records == [("added", "l.1"), ("added", "l.2")]
    assert (counts.previous, counts.current) == (0, 2)


def test_an_id_repeated_in_the_current_snapshot_counts_once() -> None:
    records, counts = _diff([], [_album("l.1", "A"), _album("l.1", "A again")])
    assert records == [("added", "l.1")]
    assert counts.current == 1


def test_the_ignored_attributes_decide_what_is_a_change() -> None:
    previous, current = [_album("l.1", "A")], [_album("l.1", "A", artwork="moved")]
    assert _diff(previous, current)[0] == []
    assert _diff(previous, current, ignored=())[0] == [("changed", "l.1")]
    renamed = [_album("l.1", "A2")]
    assert _diff(previous, renamed, ignored=("name",))[0] == []


def test_records_come_in_batches_of_the_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "BATCH", 3)
    previous = [_album(f"l.old{n}", "x") for n in range(4)]
    current = [_album(f"l.new{n}", "x") for n in range(5)]
    counts = ChangeCounts()
    sizes = [len(batch) for batch in diff_snapshots(_opener(previous), _opener(current), counts)]
    assert sizes == [3, 3, 3]
    assert (counts.added, counts.removed) == (5, 4)


def test_the_previous_snapshot_is_read_again_only_when_something_was_removed() -> None:
    opened = []

    def previous() -> Iterable[dict[str, Any]]:
        opened.append(1)
        return iter([_album("l.1", "A")])

    list(diff_snapshots(previous, _opener([_album("l.1", "A")]), ChangeCounts()))
    assert len(opened) == 1
    list(diff_snapshots(previous, _opener([]), ChangeCounts()))
    assert len(opened) == 3
