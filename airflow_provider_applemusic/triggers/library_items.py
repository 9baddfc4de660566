"""LibraryItemsTrigger: wait, on the triggerer's event loop, until catalog items are in the library."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_applemusic.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook
from airflow_provider_applemusic.ids import missing_ids, normalize_ids
from airflow_provider_applemusic.triggers.presence_registry import Member, presence_registry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class LibraryItemsTrigger(BaseTrigger):
    """
    Poll ``find_in_library`` until every id has a library id (or, with ``playlist_id``, until the
    library playlist can be fetched), or the deadline passes.

    Yields ``{"status": "success", "found": {type: {catalog_id: library_id}}}``,
    ``{"status": "timeout", "missing": {type: [catalog_id, ...]}}`` or
    ``{"status": "error", "message": ...}``. Rate limits and server errors during a poll count as
    "not yet". Serialised kwargs hold the connection id, ids and intervals, never a token or key.

    With ``ids``, the trigger joins the event loop's
    :class:`~airflow_provider_applemusic.triggers.presence_registry.PresenceRegistry`: every
    trigger of that loop with the same connection and storefront is answered from one look-up
    a round (at the smallest poll interval among them, at most 100 ids a request per type), so
    500 sensors waiting on one album each cost at most 5 requests a round. The deadline is
    checked against the answers of those rounds. With ``playlist_id``, the trigger polls on its
    own (through the loop's shared HTTP client).

    :param ids: ``{type: [catalog ids]}``; None with ``playlist_id``.
    :param playlist_id: a library playlist (``p.…``) to wait for instead of ``ids``.
    :param apple_music_conn_id: the ``apple_music`` connection.
    :param storefront: the catalog storefront; default the connection's, else the user's.
    :param poll_interval: seconds between polls.
    :param deadline: epoch seconds after which the trigger ends with a timeout event (None:
        never; the sensor always sets one).
    """

    def __init__(
        self,
        ids: dict[str, list[str]] | None = None,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        storefront: str | None = None,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        playlist_id: str | None = None,
    ) -> None:
        super().__init__()
        self.playlist_id = playlist_id
        self.ids = {"playlists": [playlist_id]} if playlist_id is not None else normalize_ids(ids)
        self.apple_music_conn_id = apple_music_conn_id
        self.storefront = storefront
        self.poll_interval = float(poll_interval)
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "ids": None if self.playlist_id is not None else self.ids,
                "apple_music_conn_id": self.apple_music_conn_id,
                "storefront": self.storefront,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "playlist_id": self.playlist_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        if self.playlist_id is not None:
            events = self._run_playlist()
        else:
            events = self._run_coalesced()
        async for event in events:
            yield event

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.time()

    async def _run_coalesced(self) -> AsyncIterator[TriggerEvent]:
        """Wait on the loop's presence registry: one look-up a round for every trigger of the group."""
        group = presence_registry().group(self.apple_music_conn_id, self.storefront)
        member = group.join(self.ids, self.poll_interval)
        try:
            event = await self._wait_as_member(member)
        finally:
            group.leave(member)  # before the event is handed on: the next round leaves it out
        yield event

    async def _wait_as_member(self, member: Member) -> TriggerEvent:
        """The member's answers, round after round, until one decides: the trigger's event."""
        missing = dict(self.ids)
        while True:
            try:
                answer = await asyncio.wait_for(member.next_answer(), timeout=self._remaining())
            except asyncio.TimeoutError:
                return TriggerEvent({"status": "timeout", "missing": missing})
            if isinstance(answer, INCURABLE_ERRORS):
                return TriggerEvent({"status": "error", "message": str(answer), "fatal": True})
            if isinstance(answer, AppleMusicError):
                self.log.warning("Poll failed, will try again: %s", answer)
                continue
            if isinstance(answer, BaseException):
                raise answer
            missing = missing_ids(self.ids, answer)
            if not missing:
                return TriggerEvent({"status": "success", "found": answer})
            self.log.info("Not in the library yet: %s", missing)

    async def _run_playlist(self) -> AsyncIterator[TriggerEvent]:
        """Poll for one library playlist with a hook of its own (playlists are not coalesced)."""
        assert self.playlist_id is not None
        hook = AppleMusicAsyncHook(self.apple_music_conn_id)
        try:
            while True:
                try:
                    if await hook.get_library_playlist(self.playlist_id) is not None:
                        found = {"playlists": {self.playlist_id: self.playlist_id}}
                        yield TriggerEvent({"status": "success", "found": found})
                        return
                    self.log.info("Not in the library yet: playlist %s", self.playlist_id)
                except INCURABLE_ERRORS as err:
                    yield TriggerEvent({"status": "error", "message": str(err), "fatal": True})
                    return
                except AppleMusicError as err:
                    self.log.warning("Poll failed, will try again: %s", err)
                remaining = self._remaining()
                if remaining is not None and remaining <= 0:
                    yield TriggerEvent({"status": "timeout", "missing": {"playlists": [self.playlist_id]}})
                    return
                await asyncio.sleep(
                    self.poll_interval if remaining is None else min(self.poll_interval, remaining)
                )
        finally:
            await hook.aclose()
