"""What LibraryItemsSensor and LibraryItemsTrigger wait for: one wait condition per form (ids, playlist)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_applemusic.api.ids import missing_ids, normalize_ids, parse_ids
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.operations import playlist_path

if TYPE_CHECKING:
    from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook, AppleMusicHook

#: a look-up's answer: ``{type: {catalog_id: library_id or None}}``
Found = dict[str, dict[str, str | None]]
#: what is still missing: ``{type: [catalog_id, ...]}``
Missing = dict[str, list[str]]
#: how the sensor's own timeout message starts
MISSING_MARK = "Items never appeared in the library within"


class WaitCondition(ABC):
    """
    What a wait is for: what is wanted, how one look-up asks for it, and, given the answer, what
    is still missing (the wait is over when nothing is). Pure but for :meth:`look`, which only
    calls the hook it is given.
    """

    #: the end of the timeout message: what a wait that never ends may mean
    advice: ClassVar[str]

    @property
    @abstractmethod
    def wanted(self) -> Missing:
        """Everything waited for, as ``{type: [id, ...]}`` (what is missing before any answer)."""

    @property
    def shown(self) -> Any:
        """What a timeout names when nothing is known to be missing."""
        return self.wanted

    @abstractmethod
    def arguments(self) -> dict[str, Any]:
        """The trigger's arguments of this form: ``ids`` and ``playlist_id``."""

    @abstractmethod
    def look(self, hook: AppleMusicHook, storefront: str | None) -> Found:
        """One look-up through the sync hook, answered as ``{type: {id: library id}}``."""

    def missing(self, found: Found) -> Missing:
        """The wanted ids that ``found`` does not map to a library id (empty: the wait is over)."""
        return missing_ids(self.wanted, found)

    def timeout_message(self, timeout: float, missing: Missing | None) -> str:
        """Why the wait failed after ``timeout`` seconds, naming what never appeared."""
        return f"{MISSING_MARK} {timeout:g} s: {missing or self.shown}. {self.advice}"


@dataclass(frozen=True)
class CatalogItems(WaitCondition):
    """
    Catalog items, until each has a library id (``find_in_library`` with ``relate=library``).

    :param ids: ``{type: [catalog ids]}``, normalized.
    :param given: the ids as the user gave them, named by a timeout when nothing is known missing.
    """

    ids: Missing
    given: Any = None

    advice: ClassVar[str] = (
        "They may be unknown catalog ids or unavailable in the storefront (Apple ignores "
        "such ids when adding them)."
    )

    @property
    def wanted(self) -> Missing:
        return self.ids

    @property
    def shown(self) -> Any:
        return self.ids if self.given is None else self.given

    def arguments(self) -> dict[str, Any]:
        return {"ids": self.ids, "playlist_id": None}

    def look(self, hook: AppleMusicHook, storefront: str | None) -> Found:
        return hook.find_in_library(self.ids, storefront=storefront)


@dataclass(frozen=True)
class LibraryPlaylist(WaitCondition):
    """
    A library playlist, until it can be fetched (``get_library_playlist``); found, it maps to itself.

    :param playlist_id: the library playlist's id (``p.…``).
    """

    playlist_id: str

    advice: ClassVar[str] = "A new playlist takes a while to appear; an id that never appears may be wrong."

    @property
    def wanted(self) -> Missing:
        return {"playlists": [self.playlist_id]}

    def arguments(self) -> dict[str, Any]:
        return {"ids": None, "playlist_id": self.playlist_id}

    def found(self, playlist: dict[str, Any] | None) -> Found:
        """``get_library_playlist``'s answer as a look-up's: ``{"playlists": {id: id}}`` once it exists."""
        return {"playlists": {} if playlist is None else {self.playlist_id: self.playlist_id}}

    def look(self, hook: AppleMusicHook, storefront: str | None) -> Found:
        return self.found(hook.get_library_playlist(self.playlist_id))

    async def alook(self, hook: AppleMusicAsyncHook) -> Found:
        """:meth:`look` through the async hook."""
        return self.found(await hook.get_library_playlist(self.playlist_id))


def require_one_form(ids: Any, playlist_id: str | None) -> None:
    """Fail unless exactly one of ``ids`` and ``playlist_id`` is given (before rendering)."""
    if (ids is None) == (playlist_id is None):
        raise AppleMusicConfigError(
            "give either ids (catalog items to wait for) or playlist_id (a library playlist), "
            f"not {'both' if ids is not None else 'neither'}"
        )


def sensor_condition(ids: Any, playlist_id: str | None) -> WaitCondition:
    """
    The condition of the sensor's rendered arguments: the playlist's (its id checked), else the
    ids' (a string parsed as JSON first, then checked).
    """
    if playlist_id is not None:
        playlist_path(playlist_id)  # checks the id
        return LibraryPlaylist(playlist_id)
    return CatalogItems(parse_ids(ids), given=ids)


def trigger_condition(ids: Any, playlist_id: str | None) -> WaitCondition:
    """The condition of the trigger's arguments: the playlist's when it has one, else the ids' (checked)."""
    if playlist_id is not None:
        return LibraryPlaylist(playlist_id)
    return CatalogItems(normalize_ids(ids))
