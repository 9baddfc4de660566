"""The user's Replay (``music-summaries``) as rows: one per view, rank and item (pure, no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: the resource's name in the resource table
REPLAY = "replay"
#: the views asked for, in the order rows come, and the relationship each entry's item is under
VIEW_RELATIONSHIPS = {"top-songs": "song", "top-albums": "album", "top-artists": "artist"}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _item(entry: Mapping[str, Any], relationship: str) -> dict[str, Any] | None:
    """The item an entry ranks (``relationships.<relationship>.data[0]``), or None when it is gone."""
    data = _mapping(_mapping(entry.get("relationships")).get(relationship)).get("data")
    first = data[0] if isinstance(data, list) and data else None
    return first if isinstance(first, dict) else None


def _year(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def replay_rows(summary: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """
    The rows of a Replay summary (``data[0]`` of ``GET /v1/me/music-summaries``; None: no year
    yet, no rows): one per entry of each view, in the views' order (top songs, albums,
    artists) and by rank, an entry whose item is gone kept with ``id`` None. Nothing is
    de-duplicated.

    Each row: ``year``, ``period`` (the summary's attributes), ``view``, ``rank`` (1 first),
    ``entry_id``, ``id`` and ``type`` of the item, ``name``, ``artist_name``, ``album_name``
    (its attributes, when included), and ``item``: the item as the service sent it.
    """
    if not summary:
        return []
    attributes = _mapping(summary.get("attributes"))
    year = _year(attributes.get("year"))
    views = _mapping(summary.get("views"))
    rows: list[dict[str, Any]] = []
    for view, relationship in VIEW_RELATIONSHIPS.items():
        entries = _mapping(views.get(view)).get("data")
        for rank, entry in enumerate(entries if isinstance(entries, list) else [], 1):
            entry = _mapping(entry)
            item = _item(entry, relationship)
            item_attributes = _mapping((item or {}).get("attributes"))
            rows.append(
                {
                    "year": year,
                    "period": attributes.get("period"),
                    "view": view,
                    "rank": rank,
                    "entry_id": entry.get("id"),
                    "id": (item or {}).get("id"),
                    "type": (item or {}).get("type"),
                    "name": item_attributes.get("name"),
                    "artist_name": item_attributes.get("artistName"),
                    "album_name": item_attributes.get("albumName"),
                    "item": item,
                }
            )
    return rows


def refuse_arguments(**given: Any) -> None:
    """
    Refuse, naming them, the export arguments that do not apply to Replay (one summary, not a
    paged listing with ``dateAdded``): those given other than None, False or empty.

    :param given: the arguments by name.
    """
    wrong = sorted(name for name, value in given.items() if value not in (None, False, "", (), []))
    if wrong:
        raise AppleMusicConfigError(
            f"{', '.join(wrong)} do{'es' if len(wrong) == 1 else ''} not apply to resource 'replay' "
            "(one summary of the latest year, not a paged listing): leave "
            f"{'it' if len(wrong) == 1 else 'them'} out"
        )
