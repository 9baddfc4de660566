"""
RecentlyPlayedTrigger: an asset watcher that fires when new plays appear in the recent-plays list.

Each poll reads the first page of ``recent/played/tracks`` and applies the play ledger's rule
(:mod:`airflow_provider_applemusic.api.plays`) to the list kept in the watched asset's state store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_applemusic.api.plays import entry_key, poll
from airflow_provider_applemusic.api.validation import validate_seconds
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook
from airflow_provider_applemusic.transport.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.triggers.watched_state import WatchedStateMixin

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: the listing polled, and how many of its newest entries each poll reads (one request)
RECENTLY_PLAYED = "recently-played-tracks"
NEWEST = 30
#: the asset state store key prefix of the kept list
STATE_KEY_PREFIX = "applemusic.recently_played"


class RecentlyPlayedTrigger(WatchedStateMixin, BaseEventTrigger):
    """
    Fire an event when something new was played; for an ``AssetWatcher``, so that a DAG (a
    ``ListeningHistoryOperator``) runs only when there is something to record.

    Each poll sends one request (the newest 30 entries, ``types=songs,library-songs``) and
    compares them, by the play ledger's rule, with the list kept in the watched asset's state
    store: a song moved to the top is a new play; a briefly older order is not. So a triggerer
    restart neither misses plays made while it was down nor fires again for plays already
    seen. The first poll ever only records a baseline.

    Delivery is at least once: the list is saved after the event is handed to the triggerer,
    just before the next poll. The payload holds counts and ids, never a token. Errors are
    logged (a refusal once per change of state, then at most hourly) and polling goes on.

    :param apple_music_conn_id: the ``apple_music`` connection.
    :param poll_interval: seconds between polls (at least 1).
    """

    state_noun = "list"

    def __init__(self, apple_music_conn_id: str = DEFAULT_CONN_ID, poll_interval: float = 300.0) -> None:
        super().__init__()
        self.apple_music_conn_id = apple_music_conn_id
        self.poll_interval = validate_seconds(poll_interval, param="poll_interval", minimum=1)
        self.init_watched_state()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"apple_music_conn_id": self.apple_music_conn_id, "poll_interval": self.poll_interval},
        )

    @property
    def state_key(self) -> str:
        """The state store key: one per connection, so watchers of two accounts never mix."""
        return f"{STATE_KEY_PREFIX}:{hashlib.sha256(self.apple_music_conn_id.encode()).hexdigest()[:16]}"

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = AppleMusicAsyncHook(self.apple_music_conn_id)

        async def newest() -> list[dict[str, Any]]:
            page = await hook.get_first_page(RECENTLY_PLAYED, page_size=NEWEST)
            return [entry for entry in page.get("data") or [] if isinstance(entry, dict)]

        try:
            saved = await self.load_state()
            self.log.info(
                "Watching the plays of connection '%s' every %gs (%s)",
                self.apple_music_conn_id,
                self.poll_interval,
                "from the saved list" if saved is not None else "no list saved yet",
            )
            number = 0
            async for entries in self.readings(newest, watching="the plays"):
                number += 1
                moment = dt.datetime.now(dt.timezone.utc)
                found = poll(saved, entries, moment, f"watch:{moment.isoformat()}:{number}")
                if found.first:
                    self.log.info("Baseline of the plays taken: %d entries", len(entries))
                    await self.save_state(found.state)
                elif found.new:
                    played = [entry_key(entry) for entry in entries[: found.new]]
                    self.log.info("New plays: %s", ", ".join(played))
                    yield TriggerEvent(
                        {
                            "new_plays": found.new,
                            "gap": found.gap,
                            "played": played,
                            "seen_at": moment.isoformat(timespec="seconds"),
                        }
                    )
                    self.save_after_event(found.state)
                elif found.state != saved:
                    await self.save_state(found.state)  # an older order held back, or a removal
                saved = found.state
        finally:
            await hook.aclose()
