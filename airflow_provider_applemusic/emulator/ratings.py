"""A user's ratings (1 love, -1 dislike), drawn from the seed; a library item shares its catalog item's."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from airflow_provider_applemusic.emulator.kinds import CATALOG_TYPES, KINDS, LIBRARY_TYPE, RATING_KINDS

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator.catalog import Catalog
    from airflow_provider_applemusic.emulator.collection import Collection

#: about this share of the library's albums, songs, playlists and music videos is rated
RATED_SHARE = 0.3
#: about this share of the catalog items outside the library is rated
RATED_CATALOG_SHARE = 0.05
#: of the rated items, about this share is loved (1), the rest disliked (-1)
LOVED_SHARE = 0.8


class Ratings:
    """
    Ratings by catalog type, keyed by catalog id, or by library id for an item without one (an
    upload, a playlist the app made): a library item and its catalog item share one rating,
    which outlives the library item.
    """

    def __init__(
        self, catalog: Catalog, collections: dict[str, Collection], in_library: dict[str, dict[str, str]]
    ) -> None:
        self.catalog = catalog
        self.collections = collections
        self.in_library = in_library
        self.values: dict[str, dict[str, int]] = {kind: {} for kind in CATALOG_TYPES}

    def populate(self, seed: int) -> None:
        """
        Rate about :data:`RATED_SHARE` of the library's albums, songs, playlists and music
        videos and :data:`RATED_CATALOG_SHARE` of the other catalog items, most loved, from the
        seed alone (its own generator: the library a seed gives does not depend on it).
        """
        rng = random.Random(f"ratings:{seed}")

        def draw() -> int:
            return 1 if rng.random() < LOVED_SHARE else -1

        for kind, resource in LIBRARY_TYPE.items():
            for item in self.collections[resource].ordered():
                if rng.random() < RATED_SHARE:
                    self.values[kind][item.catalog_id or item.library_id] = draw()
            for catalog_id in self.catalog.items[kind]:
                if catalog_id not in self.in_library[kind] and rng.random() < RATED_CATALOG_SHARE:
                    self.values[kind][catalog_id] = draw()

    def _key(self, kind: str, item_id: str) -> tuple[str, str] | None:
        """Where the rating of ``item_id`` of ``kind`` is kept: ``(catalog type, key)``; None: unknown."""
        if kind in CATALOG_TYPES:
            return (kind, item_id) if item_id in self.catalog.items[kind] else None
        if kind not in RATING_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RATING_KINDS)}, got {kind!r}")
        item = self.collections[kind].items.get(item_id)
        if item is None:
            return None
        catalog_kind = KINDS[kind].catalog_kind
        assert catalog_kind is not None
        return catalog_kind, item.catalog_id or item.library_id

    def rating(self, kind: str, item_id: str) -> int | None:
        """The rating of one item of ``kind`` (a catalog or library type); None: unrated or unknown."""
        key = self._key(kind, item_id)
        return None if key is None else self.values[key[0]].get(key[1])

    def rate(self, kind: str, item_id: str, value: int | None) -> None:
        """Rate an item: 1 (love), -1 (dislike) or None (remove the rating)."""
        if value not in (1, -1, None) or isinstance(value, bool):
            raise ValueError(f"value must be 1, -1 or None, got {value!r}")
        key = self._key(kind, item_id)
        if key is None:
            raise ValueError(f"no {kind} {item_id!r}")
        if value is None:
            self.values[key[0]].pop(key[1], None)
        else:
            self.values[key[0]][key[1]] = value

    def rated(self, kind: str) -> dict[str, int]:
        """Every rated item of ``kind``: ``{id: value}`` (library types in listing order)."""
        if kind in CATALOG_TYPES:
            catalog = self.catalog.items[kind]
            return {key: value for key, value in self.values[kind].items() if key in catalog}
        if kind not in RATING_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RATING_KINDS)}, got {kind!r}")
        found = {
            item.library_id: self.rating(kind, item.library_id) for item in self.collections[kind].ordered()
        }
        return {item_id: value for item_id, value in found.items() if value is not None}
