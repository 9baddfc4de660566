"""LibraryItemsTrigger: wait, on the triggerer's event loop, until catalog items are in the library."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook
from airflow_provider_applemusic.transport.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.triggers.presence_registry import presence_registry
from airflow_provider_applemusic.triggers.wait_conditions import Found, LibraryPlaylist, trigger_condition

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from airflow_provider_applemusic.triggers.wait_conditions import Missing

#: one answer to the wait: a look-up's, the error it raised, or None when the deadline came first
Answer = Found | BaseException | None


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
    own (through the loop's shared HTTP client). What is waited for and what is still missing
    is the :mod:`~airflow_provider_applemusic.triggers.wait_conditions` of the form.

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
        self.condition = trigger_condition(ids, playlist_id)
        self.playlist_id = playlist_id
        self.ids = self.condition.wanted
        self.apple_music_conn_id = apple_music_conn_id
        self.storefront = storefront
        self.poll_interval = float(poll_interval)
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        form = self.condition.arguments()
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "ids": form["ids"],
                "apple_music_conn_id": self.apple_music_conn_id,
                "storefront": self.storefront,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "playlist_id": form["playlist_id"],
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # catalog ids are answered by the loop's presence registry; a playlist is polled alone
        condition = self.condition
        answers = self._polls(condition) if isinstance(condition, LibraryPlaylist) else self._rounds()
        event: TriggerEvent | None = None
        missing = dict(condition.wanted)
        async with contextlib.aclosing(answers):  # leaves the group (closes the hook) first
            async for answer in answers:
                event, missing = self._judge(answer, missing)
                if event is not None:
                    break
        if event is not None:  # always: the answers never end by themselves
            yield event

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.time()

    def _judge(self, answer: Answer, missing: Missing) -> tuple[TriggerEvent | None, Missing]:
        """The event an answer decides (None: not yet), and what is still missing after it."""
        if answer is None:
            return TriggerEvent({"status": "timeout", "missing": missing}), missing
        if isinstance(answer, INCURABLE_ERRORS):
            return TriggerEvent({"status": "error", "message": str(answer)}), missing
        if isinstance(answer, AppleMusicError):
            self.log.warning("Poll failed, will try again: %s", answer)
            return None, missing
        if isinstance(answer, BaseException):
            raise answer
        missing = self.condition.missing(answer)
        if not missing:
            return TriggerEvent({"status": "success", "found": answer}), missing
        self.log.info("Not in the library yet: %s", missing)
        return None, missing

    async def _rounds(self) -> AsyncGenerator[Answer, None]:
        """This trigger's answers from the loop's presence registry: one look-up a round for its group."""
        group = presence_registry().group(self.apple_music_conn_id, self.storefront)
        member = group.join(self.ids, self.poll_interval)
        try:
            while True:
                try:
                    answer = await asyncio.wait_for(member.next_answer(), timeout=self._remaining())
                except asyncio.TimeoutError:
                    answer = None
                yield answer
        finally:
            group.leave(member)  # before the event is handed on: the next round leaves it out

    async def _polls(self, condition: LibraryPlaylist) -> AsyncGenerator[Answer, None]:
        """Look-ups with a hook of its own: at once, then every poll interval until the deadline."""
        hook = AppleMusicAsyncHook(self.apple_music_conn_id)
        try:
            while True:
                answer: Answer
                try:
                    answer = await condition.alook(hook)
                except AppleMusicError as err:
                    answer = err
                yield answer
                remaining = self._remaining()
                if remaining is not None and remaining <= 0:
                    yield None
                await asyncio.sleep(
                    self.poll_interval if remaining is None else min(self.poll_interval, remaining)
                )
        finally:
            await hook.aclose()
