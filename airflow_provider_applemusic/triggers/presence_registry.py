"""
PresenceRegistry: one catalog look-up a poll round for every waiting trigger of an event loop
that shares a connection and storefront.

Airflow's shared trigger streams exist only for event triggers, so the provider keeps its own
registry, one per event loop. Triggers (members) with the same connection and storefront form a
group. The group's round is a task owned by the group, not by any member: each round, at the
smallest poll interval among its members, it asks ``find_in_library`` once for the union of
their ids (batches of at most 100 ids per type, the storefront resolved once per group) and
hands every member its own answer, or the error. Members await their own queue, so a member
cancelled mid-round leaves the round running for the others. The group ends when its last
member leaves, or after an error that asking again cannot cure (a refused token): every member
gets that error, and the next triggers form a new group that reads the connection afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_applemusic.api.catalog import order_found
from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook

if TYPE_CHECKING:
    from collections.abc import Mapping

GroupKey = tuple[str, str | None]
#: loop passes a round waits at most for its members to take their answers
MAX_HANDOVER_PASSES = 20


@dataclass(eq=False)
class Member:
    """One waiting trigger: its ids and poll interval, and the queue its answers arrive in."""

    ids: dict[str, list[str]]
    poll_interval: float
    answers: asyncio.Queue[dict[str, dict[str, str | None]] | BaseException] = field(
        default_factory=asyncio.Queue
    )
    #: waiting for an answer (False while it handles one)
    waiting: bool = False

    async def next_answer(self) -> dict[str, dict[str, str | None]] | BaseException:
        """The next round's answer for this member's ids (the latest, if several are queued)."""
        self.waiting = True
        try:
            answer = await self.answers.get()
        finally:
            self.waiting = False
        while not self.answers.empty():
            answer = self.answers.get_nowait()
        return answer

    def handled(self) -> bool:
        """Whether it has taken every answer and waits for the next one."""
        return self.waiting and self.answers.empty()


class PresenceGroup:
    """
    The members sharing one connection and storefront on one loop, and their rounds.

    :param registry: the registry that holds the group.
    :param key: ``(connection id, storefront or None)``.
    """

    def __init__(self, registry: PresenceRegistry, key: GroupKey) -> None:
        self.registry = registry
        self.key = key
        self.hook = AppleMusicAsyncHook(key[0])
        self.members: dict[Member, None] = {}
        self.rounds = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def join(self, ids: Mapping[str, list[str]], poll_interval: float) -> Member:
        """Add a member; it gets answers from the next round on."""
        member = Member({kind: list(values) for kind, values in ids.items()}, float(poll_interval))
        self.members[member] = None
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"applemusic-presence-{self.key[0]}"
            )
        return member

    def leave(self, member: Member) -> None:
        """Remove a member (cancelled or done); the round in flight goes on for the others."""
        self.members.pop(member, None)
        self._wake.set()

    def _wanted(self, members: list[Member]) -> dict[str, list[str]]:
        """The union of the members' ids, by type, each id once."""
        wanted: dict[str, dict[str, None]] = {}
        for member in members:
            for kind, values in member.ids.items():
                wanted.setdefault(kind, {}).update(dict.fromkeys(values))
        return {kind: list(values) for kind, values in wanted.items()}

    async def _round(self) -> bool:
        """One look-up for the current members; False when the group must end."""
        members = list(self.members)
        self.rounds += 1
        try:
            found = await self.hook.find_in_library(self._wanted(members), storefront=self.key[1])
        except Exception as err:  # noqa: BLE001 (handed to the members, who raise it)
            # an error asking again cannot cure (or a defect) ends the group: it is every
            # member's answer, those who joined during the round included
            ends = not isinstance(err, AppleMusicError) or isinstance(err, INCURABLE_ERRORS)
            for member in {**dict.fromkeys(members), **self.members} if ends else members:
                member.answers.put_nowait(err)
            return not ends
        for member in members:
            member.answers.put_nowait(order_found(member.ids, found))
        # let the members take their answers (those done leave) before a next round is due
        for _ in range(MAX_HANDOVER_PASSES):
            if all(m.handled() or m not in self.members for m in members):
                break
            await asyncio.sleep(0)
        return True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.members:
                started = loop.time()
                if not await self._round():
                    return
                while self.members:
                    delay = started + min(m.poll_interval for m in self.members) - loop.time()
                    if delay <= 0:
                        break
                    self._wake.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)
        finally:
            self.registry.forget(self)
            for member in self.members:
                if member.answers.empty():  # the task was cancelled: nobody must wait forever
                    member.answers.put_nowait(RuntimeError("the presence check of this group stopped"))
            await self.hook.aclose()


class PresenceRegistry:
    """The presence groups of one event loop, by connection and storefront."""

    def __init__(self) -> None:
        self.groups: dict[GroupKey, PresenceGroup] = {}

    def group(self, conn_id: str, storefront: str | None) -> PresenceGroup:
        """The group of this connection and storefront, formed when there is none."""
        key = (conn_id, storefront)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = PresenceGroup(self, key)
        return group

    def forget(self, group: PresenceGroup) -> None:
        """Drop an ended group (new members form a new one)."""
        if self.groups.get(group.key) is group:
            del self.groups[group.key]


_LOCK = threading.Lock()
_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceRegistry] = (
    weakref.WeakKeyDictionary()
)


def presence_registry() -> PresenceRegistry:
    """The running event loop's registry (one per loop, gone with the loop)."""
    loop = asyncio.get_running_loop()
    with _LOCK:
        registry = _REGISTRIES.get(loop)
        if registry is None:
            registry = _REGISTRIES[loop] = PresenceRegistry()
        return registry
