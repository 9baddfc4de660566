"""
What every asset-watching trigger shares: its state in the watched asset's state store, and the
poll loop (errors logged, polling kept up, the state saved once an event was handed on).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

_T = TypeVar("_T")

#: a refusal that goes on is logged again at most this often (seconds)
REFUSAL_LOG_INTERVAL = 3600.0


class WatchedStateMixin:
    """
    Load and save a trigger's state in the watched asset's state store (``asset_state_store``,
    given by the triggerer to a ``BaseEventTrigger`` watching one asset), under ``state_key``;
    without a store, or when several assets are watched, the state is kept in memory only and
    that is said once.

    The trigger sets ``state_noun`` (what the state is, for the log), ``state_key`` and
    ``poll_interval``, calls :meth:`init_watched_state` in its constructor, and polls with
    :meth:`readings`.
    """

    state_noun = "state"
    log: Any
    poll_interval: float

    if TYPE_CHECKING:

        @property
        def state_key(self) -> str:
            """The key of the state in the store (the trigger's own)."""

    def init_watched_state(self) -> None:
        """Start with no state in memory and nothing said yet."""
        self._memory: dict[str, Any] | None = None
        self._warned: set[str] = set()
        self._after_event: dict[str, Any] | None = None

    def _warn_once(self, reason: str, message: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            self.log.warning(message)

    def _in_memory_only(self) -> None:
        self._warn_once(
            "many-assets", f"Watching several assets: the {self.state_noun} is kept in memory only"
        )

    async def load_state(self) -> dict[str, Any] | None:
        """The state saved in the watched asset's state (None: none yet)."""
        store = getattr(self, "asset_state_store", None)
        if store is None:
            self._warn_once(
                "no-store",
                f"No asset state store (not an asset watcher?): the {self.state_noun} is in memory",
            )
            return self._memory
        try:
            saved = await store.aget(self.state_key, default=None)
        except ValueError:  # several watched assets: no single accessor
            self._in_memory_only()
            return self._memory
        return saved if isinstance(saved, dict) else None

    async def save_state(self, state: dict[str, Any]) -> None:
        """Keep ``state`` in the watched asset's state (in memory when there is none)."""
        self._memory = state
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return
        try:
            await store.aset(self.state_key, state)
        except ValueError:
            self._in_memory_only()

    def save_after_event(self, state: dict[str, Any]) -> None:
        """
        Save ``state`` just before the next poll: by then the event yielded with it has been
        handed to the triggerer (delivery at least once: a restart in between fires it again).
        """
        self._after_event = state

    async def readings(self, read: Callable[[], Awaitable[_T]], *, watching: str) -> AsyncIterator[_T]:
        """
        Call ``read`` every ``poll_interval`` seconds, forever, and yield what it returns. A
        refusal (a token, the subscription, the configuration) is logged at error once per change
        of state, then at most hourly, and polling goes on; another failure is logged at warning
        and tried again next poll.

        :param read: one poll.
        :param watching: what is watched, for the log ("the library").
        """
        refusal: str | None = None
        refusal_logged = 0.0
        while True:
            if self._after_event is not None:
                await self.save_state(self._after_event)
                self._after_event = None
            try:
                reading = await read()
            except INCURABLE_ERRORS as err:
                state, now = f"{type(err).__name__}: {err}", time.monotonic()
                if state != refusal or now - refusal_logged >= REFUSAL_LOG_INTERVAL:
                    self.log.error("Cannot watch %s, will keep polling: %s", watching, err)
                    refusal, refusal_logged = state, now
            except AppleMusicError as err:
                self.log.warning("Poll failed, will try again next poll: %s", err)
            else:
                if refusal is not None:
                    self.log.info("Polling works again")
                    refusal = None
                yield reading
            await asyncio.sleep(self.poll_interval)
