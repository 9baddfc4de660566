"""
The play ledger over a simulated week of listening, polled every 15 minutes, against the truth.

The hook reads the emulator's play history (over real sockets, with short pages and briefly
older orders) and the ledger's rule (:func:`~airflow_provider_applemusic.api.plays.poll`) runs
on it at simulated times; the emulator logs every play with its time (``plays()``), which the
API never gives. Each accepted poll must record exactly the plays the list can show: the
songs played since the last accepted poll, newest first, down to where the list reads as the
previous one with those songs taken out (a song on repeat, or replays that restore an order,
leave no trace), each played inside the poll's window, nothing twice.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_applemusic.api.plays import HISTORY_LIMIT, entry_key, poll
from airflow_provider_applemusic.emulator.sessions import SessionMix
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

PLAYED = "recently-played-tracks"
POLL = dt.timedelta(minutes=15)
#: Monday 00:00 UTC
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
#: the poller is down on Thursday from 20:00 to 02:00 while a party plays 70 fresh songs: a gap
DOWN = (T0 + dt.timedelta(days=3, hours=20), T0 + dt.timedelta(days=4, hours=2))
#: a run retried (after a song more was played) and two runs that overlap
RETRIED = T0 + dt.timedelta(days=1, hours=19, minutes=30)
OVERLAPPING = T0 + dt.timedelta(days=5, hours=20)


def _sessions(rng: random.Random) -> list[tuple[dt.datetime, int]]:
    """(start, plays) of the week's listening: mornings, evenings, some afternoons."""
    found = []
    for day in range(7):
        midnight = T0 + dt.timedelta(days=day)
        found.append((midnight + dt.timedelta(hours=7, minutes=rng.randrange(60)), rng.randint(6, 14)))
        if rng.random() < 0.5:
            found.append((midnight + dt.timedelta(hours=13, minutes=rng.randrange(90)), rng.randint(3, 9)))
        if day != 3:
            found.append((midnight + dt.timedelta(hours=19, minutes=rng.randrange(60)), rng.randint(15, 40)))
    return found


def _play_times(rng: random.Random) -> list[dt.datetime]:
    """When each play of the week starts: 2 to 7 minutes apart within a session, never on a poll."""
    times = []
    for start, plays in _sessions(rng):
        at = start + dt.timedelta(seconds=7)
        for _ in range(plays):
            times.append(at)
            at += dt.timedelta(seconds=rng.randrange(120, 420))
    return sorted(times)


def shown_new(previous: list[str], current: list[str]) -> int:
    """
    How many entries at the top of ``current`` the list shows as played since ``previous``: the
    smallest ``j`` from which ``current`` reads as ``previous`` with its first ``j`` entries taken
    out (what stands below was not played: it only moved down).
    """
    for j in range(len(current) + 1):
        rest = [key for key in previous if key not in current[:j]]
        if current[j:] == rest[: len(current) - j]:
            return j
    raise AssertionError("unreachable: j = len(current) always matches")


@dataclass
class Ledger:
    """What a reader of the ledger holds (rows by play id: a retried run's file replaces its first's)."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked_polls: int = 0
    recorded: int = 0
    hidden: int = 0
    lost: int = 0
    older: int = 0
    gaps: int = 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.rows[row["play_id"]] = row


class Week:
    """The emulator, the hook, and the ledger's state and accepted list as the week goes."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.hook = AppleMusicHook()
        self.ledger = Ledger()
        self.state: Any = None
        self.accepted: tuple[dt.datetime, list[str]] | None = None

    def read(self) -> list[dict[str, Any]]:
        return list(self.hook.iter_library(PLAYED, page_size=30))[:HISTORY_LIMIT]

    def run(self, at: dt.datetime, run_id: str, base: Any = None, *, check: bool = True) -> Any:
        """One poll at ``at``; checks what it recorded against the truth and accepts its list."""
        entries = self.read()
        found = poll(self.state if base is None else base, entries, at, run_id)
        self.ledger.add(found.rows)
        current = [entry_key(entry) for entry in entries]
        if found.older:
            assert found.rows == []
            self.ledger.older += 1
        else:
            if check and self.accepted is not None:
                self.check(found, current, at)
            self.accepted = (at, current)
        self.state = found.state
        return found

    def truth(self, after: dt.datetime, before: dt.datetime) -> list[dict[str, Any]]:
        return [p for p in self.emulator.plays() if after < p["at"] <= before]

    def check(self, found: Any, current: list[str], at: dt.datetime) -> None:
        """The poll's rows against the plays made since the last accepted poll."""
        assert self.accepted is not None
        after, previous = self.accepted
        played = self.truth(after, at)
        distinct = list(dict.fromkeys(f"{p['type']}:{p['id']}" for p in reversed(played)))
        plays = [row for row in found.rows if row["kind"] == "play"]
        keys = [f"{row['type']}:{row['id']}" for row in plays]
        window = (after.isoformat(timespec="seconds"), at.isoformat(timespec="seconds"))
        assert {(row["observed_after"], row["observed_before"]) for row in found.rows} <= {window}
        if found.gap:
            assert found.rows[0]["kind"] == "gap" and len(distinct) > HISTORY_LIMIT
            assert keys == current == distinct[:HISTORY_LIMIT]
            self.ledger.gaps += 1
            self.ledger.lost += len(played) - HISTORY_LIMIT
        else:
            shown = shown_new(previous, current)
            assert keys == current[:shown] == distinct[:shown], at
            # what the list cannot show are songs of the previous list played again
            assert set(distinct[shown:]) <= set(previous), at
            self.ledger.hidden += len(played) - shown
        self.ledger.recorded += len(keys)
        self.ledger.checked_polls += 1


def _play_until(emulator: Any, plays: list[dt.datetime], until: dt.datetime) -> None:
    """Play the scheduled plays before ``until`` (those before the last play made are let go)."""
    while plays and plays[0] < until:
        upcoming = plays.pop(0)
        made = emulator.plays()
        if DOWN[0] <= upcoming < DOWN[1] or (made and upcoming <= made[-1]["at"]):
            continue
        emulator.listening_session(1, start=upcoming, mix=SessionMix(repeat=0.08, replay=0.3))


def _party(emulator: Any, at: dt.datetime) -> None:
    """
    70 plays 4 minutes apart while the poller is down: 20 songs never played nor listed, a
    song of the list played again, 49 more fresh ones. The replay ends up the oldest entry of
    the list, where a song that survived would stand: the overlap is lost all the same.
    """
    listed = [(e["type"], e["id"]) for e in emulator.library_items(PLAYED, extend=())]
    seen = {(p["type"], p["id"]) for p in emulator.plays()} | set(listed)
    fresh = [("songs", s) for s in emulator.catalog_ids("songs") if ("songs", s) not in seen][:69]
    for number, (kind, song) in enumerate([*fresh[:20], listed[30], *fresh[20:]]):
        emulator.play(kind, song, at=at + dt.timedelta(minutes=4 * number + 1))


def _retried(week: Week, at: dt.datetime, run_id: str) -> None:
    """A run whose try wrote its file and state, then failed; its retry, a song later."""
    accepted = week.accepted
    week.run(at, run_id, check=False)
    week.emulator.listening_session(1, start=at + dt.timedelta(seconds=30))
    week.accepted = accepted
    week.run(at + dt.timedelta(minutes=1), run_id)  # computes against the run's base again


def _overlapping(week: Week, at: dt.datetime, run_id: str) -> None:
    """
    Two runs that both read the state before either wrote it; the second writes last. (With a
    stale read the second could see the base's own list and record nothing: runs of a ledger
    must not overlap, which the operator sees to; here the reads are fresh.)
    """
    accepted, base = week.accepted, week.state
    stale_every, week.emulator.stale_order_every = week.emulator.stale_order_every, 0
    first = week.run(at, f"{run_id}_a", check=False)
    for seconds in (20, 60):  # two songs played meanwhile
        week.emulator.listening_session(1, start=at + dt.timedelta(seconds=seconds))
    week.accepted = accepted
    second = week.run(at + dt.timedelta(minutes=2), f"{run_id}_b", base=base)
    # both computed against one base: the same play has the same id in both files
    assert {r["play_id"] for r in first.rows} <= {r["play_id"] for r in second.rows}
    week.emulator.stale_order_every = stale_every


def test_a_week_polled_every_15_minutes_records_exactly_what_the_list_shows(start_emulator: Any) -> None:
    emulator = start_emulator(
        albums=40, songs=400, history=20, stale_order_every=9, recently_played_short_every=5
    )
    plays = _play_times(random.Random(22))
    week = Week(emulator)
    week.run(T0, "scheduled__start", check=False)  # the first run records the list as it is
    first_ids = set(week.ledger.rows)
    at, runs = T0 + POLL, 0
    while at <= T0 + dt.timedelta(days=7):
        _play_until(emulator, plays, at)
        run_id = f"scheduled__{at.isoformat()}"
        runs += not DOWN[0] < at < DOWN[1]
        if DOWN[0] < at < DOWN[1]:
            pass  # the poller is down
        elif at == RETRIED:
            _retried(week, at, run_id)
        elif at == OVERLAPPING:
            _overlapping(week, at, run_id)
        else:
            week.run(at, run_id)
        if at == DOWN[0]:
            _party(emulator, at)
        at += POLL

    truth = emulator.plays()
    ledger = week.ledger
    assert len(truth) > 300 and ledger.checked_polls + ledger.older == runs > 600
    assert ledger.gaps == 1 and ledger.older > 10 and ledger.hidden > 0
    # every play is recorded, or one the list cannot show, or lost in the gap (the party's 70 - 50)
    assert ledger.recorded + ledger.hidden + ledger.lost == len(truth) and ledger.lost == 20
    # nothing twice: every play row once (by play id), never more than the plays made
    later = [row for pid, row in ledger.rows.items() if pid not in first_ids and row["kind"] == "play"]
    assert len(later) == ledger.recorded <= len(truth)
    print(
        f"\na week: {len(truth)} plays, {len(later)} recorded, {ledger.hidden} the list could not show, "
        f"{ledger.lost} lost in {ledger.gaps} gap, {ledger.older} older orders held back, "
        f"{ledger.checked_polls} polls checked"
    )
