"""
LibraryChangedTrigger: an asset watcher that fires when the user's library changes.

The service has no change feed, so each poll reads a cheap fingerprint of the library and
compares it with the last one kept in the watched asset's state store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_applemusic.api.resources import LISTING_RESOURCES
from airflow_provider_applemusic.api.validation import validate_seconds
from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
)
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook
from airflow_provider_applemusic.transport.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.triggers.watched_state import WatchedStateMixin

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

#: the resources a watcher can watch: the library's own listings
WATCHABLE = tuple(
    name for name, row in LISTING_RESOURCES.items() if row.parent is None and name.startswith("library-")
)
#: resources whose additions ``recently-added`` lists (newest first)
IN_RECENTLY_ADDED = ("library-albums", "library-playlists")
#: how many of the newest ``recently-added`` ids each poll reads (one request)
NEWEST = 10
#: the asset state store key prefix of the saved fingerprint
STATE_KEY_PREFIX = "applemusic.library_fingerprint"


class LibraryChangedTrigger(WatchedStateMixin, BaseEventTrigger):
    """
    Fire an event each time the user's library changes; for an ``AssetWatcher``.

    Each poll sends one small request per watched resource (``limit=1``: its ``meta.total``
    and the first id in the listing's alphabetical order) and, when albums or playlists are
    watched, one to ``recently-added`` (its ``NEWEST`` newest ids). The fingerprint they make
    is compared with the last one, kept in the watched asset's state store, so a triggerer
    restart neither misses a change made while it was down nor fires again for one already
    seen. The first poll ever only records a baseline.

    It notices: any addition of albums or playlists (they lead ``recently-added``); any change
    in the number of items of a watched resource; a change of the item filed first. It misses:
    an addition and a removal of the same kind of song, artist or music video between two
    polls (the total stays), changes of attributes (a renamed playlist, edited tracks), and
    anything undone before the next poll. A change is seen at most ``poll_interval`` seconds
    after it shows in the API (Apple adds with a delay).

    Delivery is at least once: the fingerprint is saved after the event is handed to the
    triggerer, just before the next poll. The payload holds totals and ids, never a token.
    429s and server errors are retried under the connection's policy and then skipped until
    the next poll; a refused token, a missing subscription or a song listing the account does
    not serve (404 though the library holds albums or playlists: songs are then not taken for
    none) is logged once per change of state (then at most hourly) and polling goes on, since a
    watcher must not die.

    :param apple_music_conn_id: the ``apple_music`` connection.
    :param resources: the library listings to watch (``library-albums``, ``library-songs``,
        ``library-artists``, ``library-playlists``, ``library-music-videos``).
    :param poll_interval: seconds between polls (at least 1).
    """

    state_noun = "fingerprint"

    def __init__(
        self,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        resources: Sequence[str] = ("library-albums",),
        poll_interval: float = 300.0,
    ) -> None:
        super().__init__()
        if isinstance(resources, str) or not resources:
            raise AppleMusicConfigError(
                f"resources must be a non-empty list of {', '.join(WATCHABLE)}, got {resources!r}"
            )
        for resource in resources:
            if resource not in WATCHABLE:
                raise AppleMusicConfigError(
                    f"resources may hold only {', '.join(WATCHABLE)}, got {resource!r}"
                )
        self.apple_music_conn_id = apple_music_conn_id
        self.resources = sorted(set(resources))
        self.poll_interval = validate_seconds(poll_interval, param="poll_interval", minimum=1)
        self.init_watched_state()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "apple_music_conn_id": self.apple_music_conn_id,
                "resources": list(self.resources),
                "poll_interval": self.poll_interval,
            },
        )

    @property
    def state_key(self) -> str:
        """The state store key: one per connection and set of resources, so watchers never mix."""
        identity = json.dumps([self.apple_music_conn_id, self.resources]).encode()
        return f"{STATE_KEY_PREFIX}:{hashlib.sha256(identity).hexdigest()[:16]}"

    async def fingerprint(self, hook: AppleMusicAsyncHook) -> dict[str, Any]:
        """Read the library's fingerprint: totals and first ids per resource, newest additions."""
        totals: dict[str, int | None] = {}
        first: dict[str, str | None] = {}
        for resource in self.resources:
            page = await hook.get_first_page(resource)
            total = (page.get("meta") or {}).get("total")
            totals[resource] = total if isinstance(total, int) and not isinstance(total, bool) else None
            data = page.get("data") or []
            first[resource] = data[0].get("id") if data else None
        newest: list[str] = []
        if any(resource in IN_RECENTLY_ADDED for resource in self.resources):
            recent = await hook.get_first_page("recently-added", page_size=NEWEST)
            newest = [str(item.get("id")) for item in recent.get("data") or []]
        return {"totals": totals, "first": first, "newest": newest}

    # -- polling -------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = AppleMusicAsyncHook(self.apple_music_conn_id)
        try:
            saved = await self.load_state()
            self.log.info(
                "Watching %s of connection '%s' every %gs (%s)",
                ", ".join(self.resources),
                self.apple_music_conn_id,
                self.poll_interval,
                "from the saved fingerprint" if saved is not None else "no fingerprint saved yet",
            )
            async for current in self.readings(lambda: self.fingerprint(hook), watching="the library"):
                if saved is None:
                    self.log.info("Baseline of the library taken: %s", summary(current))
                    await self.save_state(current)
                elif current != saved:
                    self.log.info("The library changed: %s", changes(saved, current))
                    yield TriggerEvent(event_payload(self.resources, saved, current))
                    self.save_after_event(current)
                saved = current
        finally:
            await hook.aclose()


def summary(fingerprint: dict[str, Any]) -> str:
    """The totals of a fingerprint, for a log line."""
    return ", ".join(f"{name} {total}" for name, total in fingerprint["totals"].items())


def newly_added(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The newest ids seen now that were not among the newest before."""
    return [item for item in after["newest"] if item not in before["newest"]]


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, in words."""
    said = [
        f"{name} {before['totals'].get(name)} -> {total}"
        for name, total in after["totals"].items()
        if before["totals"].get(name) != total
    ]
    said += [
        f"{name} now starts with {first}"
        for name, first in after["first"].items()
        if before["first"].get(name) != first
    ]
    fresh = newly_added(before, after)
    if fresh:
        said.append(f"newly added {', '.join(fresh)}")
    return said or ["newest additions reordered"]


def event_payload(resources: Sequence[str], before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The event: what was seen before and now (totals, newest ids), and when."""
    return {
        "resources": list(resources),
        "totals": after["totals"],
        "previous_totals": before["totals"],
        "newest": after["newest"],
        "newly_added": newly_added(before, after),
        "changes": changes(before, after),
        "seen_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
