"""The library listings the provider pages, as data: one row per resource."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_applemusic.exceptions import AppleMusicConfigError


@dataclass(frozen=True)
class ListingResource:
    """
    One paged listing of the user's library (or, with ``page_max`` 0, a resource one request
    answers whole: the Replay summary).

    :param name: the resource's name, e.g. ``library-albums``.
    :param path: the listing's path; ``{parent_id}`` marks a relationship listing.
    :param page_max: the largest ``limit`` the service accepts (0: not paged).
    :param id_prefix: the prefixes of the ids it lists (``l.``, ``i.``, ...; empty: any id,
        as in the histories, which mix catalog and library ids).
    :param extended: extended attributes it supports; every request asks for them, since they
        come back only when named in ``extend`` (``dateAdded``).
    :param parent: what ``parent_id`` names, for a relationship listing.
    :param inline_in_parent: the relationship of the parent resource that carries the same
        items (``tracks``): some accounts answer the listing 404 but the parent fetched with
        ``include`` of it carries them, so a 404 at offset 0 is checked there.
    :param evidence: listings whose items imply this one has some: some accounts answer this
        listing 404 whatever it holds, so a 404 at offset 0 is an empty collection only when
        these are empty too.
    :param identity: what makes an entry itself: ``id`` (a library item: each id once, offsets
        that shift are caught by id) or ``position`` (a playlist's tracks and the play history:
        the same id may stand at several positions, every entry is kept, in the service's order).
    :param query: parameters every request of the listing carries (the play history's
        ``types``: without it, plays of library songs do not come back).
    """

    name: str
    path: str
    page_max: int
    id_prefix: tuple[str, ...]
    extended: tuple[str, ...] = ()
    parent: str | None = None
    inline_in_parent: str | None = None
    evidence: tuple[str, ...] = ()
    identity: str = "id"
    query: tuple[tuple[str, str], ...] = ()

    @property
    def paged(self) -> bool:
        """A listing paged by ``limit`` and ``offset`` (not a summary one request answers)."""
        return self.page_max > 0

    @property
    def windowed(self) -> bool:
        """The service returns ``dateAdded`` for its items: date windows can work on it."""
        return "dateAdded" in self.extended

    def listing_path(self, parent_id: str | None = None) -> str:
        """The path to page, with ``parent_id`` for a relationship listing (checked)."""
        if self.parent is None:
            if parent_id is not None:
                raise AppleMusicConfigError(
                    f"parent_id is only for relationship listings such as library-playlist-tracks; "
                    f"{self.name} takes none, got {parent_id!r}"
                )
            return self.path
        if not isinstance(parent_id, str) or not parent_id.startswith("p.") or "/" in parent_id:
            raise AppleMusicConfigError(
                f"parent_id must be the library id of a {self.parent} (such as 'p.AbC123') for "
                f"{self.name}, got {parent_id!r}"
            )
        return self.path.format(parent_id=parent_id)

    def parent_path(self, parent_id: str | None) -> str:
        """The path of the parent resource of a relationship listing (``parent_id`` checked)."""
        listing = self.listing_path(parent_id)
        if self.parent is None:
            raise AppleMusicConfigError(f"{self.name} is not a relationship listing: it has no parent")
        return listing.rsplit("/", 1)[0]


#: every listing the provider pages; adding a resource is adding a row
LISTING_RESOURCES: dict[str, ListingResource] = {
    row.name: row
    for row in (
        ListingResource("library-albums", "/v1/me/library/albums", 100, ("l.",), ("dateAdded",)),
        # an album in the library brings its songs; a playlist counts too: whether its tracks
        # belong in this listing cannot be told from here, and failing beats listing nothing
        ListingResource(
            "library-songs",
            "/v1/me/library/songs",
            100,
            ("i.",),
            ("dateAdded",),
            evidence=("library-albums", "library-playlists"),
        ),
        ListingResource("library-artists", "/v1/me/library/artists", 100, ("r.",), ("dateAdded",)),
        ListingResource("library-playlists", "/v1/me/library/playlists", 100, ("p.",), ("dateAdded",)),
        # the service never returns dateAdded for music videos, asked for or not
        ListingResource("library-music-videos", "/v1/me/library/music-videos", 100, ("i.",)),
        ListingResource(
            "library-playlist-tracks",
            "/v1/me/library/playlists/{parent_id}/tracks",
            100,
            ("i.",),
            parent="playlist",
            inline_in_parent="tracks",
            # a playlist may hold the same song at several positions
            identity="position",
        ),
        # newest first, library albums and playlists mixed; a limit over 25 answers 400; the
        # service ends it after about 150 items, however large the library: not a full listing
        ListingResource("recently-added", "/v1/me/library/recently-added", 25, ("l.", "p.")),
        # short histories of catalog and library items, newest first, no play timestamps. The
        # plays: at most 50 in all, de-duplicated by the service (a replay moves to the top);
        # without types only plays of catalog songs come back
        ListingResource(
            "recently-played-tracks",
            "/v1/me/recent/played/tracks",
            30,
            ("",),
            identity="position",
            query=(("types", "songs,library-songs"),),
        ),
        ListingResource("heavy-rotation", "/v1/me/history/heavy-rotation", 10, ("",)),
        # the latest Replay year: top songs, albums and artists, each item under its entry's
        # relationship; not paged; a year not available yet answers 404 (an empty Replay)
        ListingResource(
            "replay",
            "/v1/me/music-summaries",
            0,
            ("",),
            query=(
                ("filter[year]", "latest"),
                ("views", "top-songs,top-albums,top-artists"),
                ("include", "song,album,artist"),
            ),
        ),
    )
}


#: the listings whose items carry ``dateAdded``: the ones date windows (``added_after``,
#: ``added_before``) work on
WINDOWED_RESOURCES: tuple[str, ...] = tuple(name for name, row in LISTING_RESOURCES.items() if row.windowed)


def resource_row(name: object) -> ListingResource:
    """The row for ``name`` (paged or not), else a config error listing the resources there are."""
    row = LISTING_RESOURCES.get(name) if isinstance(name, str) else None
    if row is None:
        raise AppleMusicConfigError(f"resource must be one of {', '.join(LISTING_RESOURCES)}, got {name!r}")
    return row


def listing_resource(name: object) -> ListingResource:
    """The row of the paged listing ``name``, else a config error listing the listings there are."""
    row = LISTING_RESOURCES.get(name) if isinstance(name, str) else None
    if row is None or not row.paged:
        listings = ", ".join(n for n, r in LISTING_RESOURCES.items() if r.paged)
        whole = "" if row is None else f" ({name} is not paged: AppleMusicExportOperator exports it)"
        raise AppleMusicConfigError(f"resource must be one of {listings}, got {name!r}{whole}")
    return row
