"""What an asset-watching trigger keeps between polls: its state in the watched asset's state store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


class WatchedStateMixin:
    """
    Load and save a trigger's state in the watched asset's state store (``asset_state_store``,
    given by the triggerer to a ``BaseEventTrigger`` watching one asset), under ``state_key``;
    without a store, or when several assets are watched, the state is kept in memory only and
    that is said once.

    The trigger sets ``state_noun`` (what the state is, for the log) and ``state_key``, and calls
    :meth:`init_watched_state` in its constructor.
    """

    state_noun = "state"
    log: Any

    if TYPE_CHECKING:

        @property
        def state_key(self) -> str:
            """The key of the state in the store (the trigger's own)."""

    def init_watched_state(self) -> None:
        """Start with no state in memory and nothing said yet."""
        self._memory: dict[str, Any] | None = None
        self._warned: set[str] = set()

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
