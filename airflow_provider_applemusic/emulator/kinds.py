"""The emulated API's resource table: catalog and library types, listings, histories, page limits."""

from __future__ import annotations

from dataclasses import dataclass

CATALOG_TYPES = ("albums", "songs", "playlists", "music-videos")
LIBRARY_TYPE = {
    "albums": "library-albums",
    "songs": "library-songs",
    "playlists": "library-playlists",
    "music-videos": "library-music-videos",
}
#: attributes the service returns only when the request names them in ``extend``
EXTENDED_ATTRIBUTES = frozenset({"dateAdded"})
#: the catalog attribute holding each type's standard code
CODE_ATTRIBUTE = {"songs": "isrc", "albums": "upc"}
#: the kinds ``/v1/me/ratings/{kind}`` serves: the catalog types and their library types
RATING_KINDS = (*CATALOG_TYPES, *LIBRARY_TYPE.values())


@dataclass(frozen=True)
class ResourceKind:
    """
    One top-level library listing.

    :param resource: the resource type, e.g. ``library-songs``.
    :param segment: its path segment under ``/v1/me/library/``.
    :param prefix: the prefix of its library ids.
    :param catalog_kind: the catalog type its items come from (None: no catalog resources).
    :param dated: its items carry the extended attribute ``dateAdded`` (the service gives it on
        albums, songs, artists and playlists, never on music videos).
    """

    resource: str
    segment: str
    prefix: str
    catalog_kind: str | None
    dated: bool = True


#: the top-level listings, by resource type
KINDS: dict[str, ResourceKind] = {
    kind.resource: kind
    for kind in (
        ResourceKind("library-albums", "albums", "l.", "albums"),
        ResourceKind("library-songs", "songs", "i.", "songs"),
        ResourceKind("library-artists", "artists", "r.", None),
        ResourceKind("library-playlists", "playlists", "p.", "playlists"),
        ResourceKind("library-music-videos", "music-videos", "i.", "music-videos", dated=False),
    )
}
KIND_BY_SEGMENT = {kind.segment: kind for kind in KINDS.values()}
#: the relationship listing ``/v1/me/library/playlists/{id}/tracks`` (library-songs, playlist order)
PLAYLIST_TRACKS = "library-playlist-tracks"
#: ``/v1/me/library/recently-added``: library albums and playlists, newest first
RECENTLY_ADDED = "recently-added"
#: ``/v1/me/recent/played/tracks``: catalog and library songs (and music videos), newest first,
#: no play times
RECENTLY_PLAYED = "recently-played-tracks"
#: ``/v1/me/history/heavy-rotation``: catalog albums and playlists the user plays a lot
HEAVY_ROTATION = "heavy-rotation"
#: ``/v1/me/recent/played``: catalog albums, playlists and stations recently played, newest first
RECENTLY_PLAYED_RESOURCES = "recently-played"
HISTORIES = (RECENTLY_ADDED, RECENTLY_PLAYED, HEAVY_ROTATION, RECENTLY_PLAYED_RESOURCES)
#: how many entries each history reports at most (the service keeps them short; recently-added
#: ends after 150 items however large the library)
HISTORY_CAPS = {RECENTLY_ADDED: 150, RECENTLY_PLAYED: 50, HEAVY_ROTATION: 20, RECENTLY_PLAYED_RESOURCES: 50}
#: every listing the emulator serves
LISTING_RESOURCES = (*KINDS, PLAYLIST_TRACKS, *HISTORIES)
#: ``(page maximum, default limit)`` of each listing: a larger ``limit`` answers 400
PAGE_LIMITS: dict[str, tuple[int, int]] = {
    **{resource: (100, 25) for resource in (*KINDS, PLAYLIST_TRACKS)},
    RECENTLY_ADDED: (25, 10),
    RECENTLY_PLAYED: (30, 10),
    HEAVY_ROTATION: (10, 10),
    RECENTLY_PLAYED_RESOURCES: (10, 10),
}
#: the entry types of the play history (``recent/played/tracks``); music videos come back as
#: ``{id, type, href}`` only, whatever the request's ``types``
PLAYED_TYPES = ("songs", "library-songs", "music-videos")
#: the types ``recent/played/tracks`` answers without a ``types`` parameter
DEFAULT_PLAYED_TYPES = ("songs",)


def played_types(types: str | None) -> frozenset[str]:
    """The entry types ``recent/played/tracks`` returns for a ``types`` parameter (None: absent)."""
    named = DEFAULT_PLAYED_TYPES if types is None else tuple(t for t in types.split(",") if t)
    return frozenset({*named, "music-videos"} & set(PLAYED_TYPES))
