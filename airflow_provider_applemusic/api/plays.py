"""
Which entries of the recent-plays list are new plays since the last poll (pure, no I/O).

The service's ``recent/played/tracks`` holds the newest 50 plays, newest first, de-duplicated:
a song played again moves to the top. Between two polls the list therefore changes as
``current = new + rest``: ``new`` are the songs played since (each once, replays included),
``rest`` is the previous list without the replayed songs, in the same order, cut at 50.

**The rule.** ``rest`` is the longest *suffix* of the current list that is an in-order
subsequence of the previous list; what stands before it is new (:func:`count_new`). It is the
smallest set of plays that explains the change, so it never invents a play: a song moved to the
top is a replay (new); a song already at the top and played again, or several replays that
restore the order, cannot be seen in the list at all.

**Gaps.** When nothing of the previous list survives in a full list (50 entries), more than
the list holds may have been played: a ``gap`` row records the window, then every entry is
recorded as a play of that window. So too when what the rule kept cannot have survived
(:func:`overlap_lost`): the service drops entries only at the bottom, or when a song leaves the
library, so if more than :data:`VANISHED_LIMIT` entries of the previous list that stood above
the oldest kept one are gone, the kept ones were played again after the overlap was lost.

**Older orders.** The service sometimes briefly returns an older order. A list equal to one
this ledger accepted earlier (its digest is among the last :data:`SEEN_ORDERS` accepted lists,
other than the previous one) is taken for such a stale read: nothing is new and the previous
list stays. Should the same order come back in a later run (not a retry) it is accepted then,
since it was a real change after all (some replays restore an earlier order).

**Retries and overlapping runs.** The state records the run that wrote it and the state before
that run (``base``). A retry of the same run computes against ``base`` again, so it finds the
same plays (with the same ids, plus any played since) and rewrites the same file. Runs of one
ledger must not overlap (the operator sets ``max_active_tis_per_dag=1``); play ids are stable
so a reader can still deduplicate.

**play_id** is a digest of the base the play was found against (the previous state's token;
``"first"`` on the first run or after a gap) and its rank counted from the anchor: the newest
surviving entry (1 for the play just above it, 2 above that...), or the bottom of the list when
nothing survives. The same play read again (a retry, a later play on top) keeps its id.

**Times.** ``observed_after`` and ``observed_before`` are the two poll times between which the
plays happened (``observed_after`` is None on the first run). ``estimated_played_at`` spreads
the plays back from ``observed_before`` by their durations, newest first, as scrobblers do,
never earlier than ``observed_after``: an estimate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.api.catalog import catalog_id_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: the most entries the service keeps in ``recent/played/tracks``
HISTORY_LIMIT = 50
#: how many earlier accepted lists are remembered (by digest) to recognise an older order
SEEN_ORDERS = 8
#: the version of the state's layout
STATE_VERSION = 1
#: more entries of the previous list than this gone from above the kept ones: the overlap was lost
VANISHED_LIMIT = HISTORY_LIMIT // 2


def entry_key(entry: Mapping[str, Any]) -> str:
    """What identifies an entry of the list: ``type:id``."""
    return f"{entry.get('type')}:{entry.get('id')}"


def count_new(previous: Sequence[str], current: Sequence[str]) -> int:
    """
    How many entries at the head of ``current`` are new plays since ``previous`` (both lists of
    keys, newest first): ``len(current)`` less the longest suffix of ``current`` that is an
    in-order subsequence of ``previous``.
    """
    position = {key: index for index, key in enumerate(previous)}
    bound = len(previous)
    kept = 0
    for key in reversed(current):
        index = position.get(key)
        if index is None or index >= bound:
            break
        bound = index
        kept += 1
    return len(current) - kept


def overlap_lost(previous: Sequence[str], current: Sequence[str], new: int) -> bool:
    """
    Whether the entries the rule kept at the bottom of ``current`` (those after the first
    ``new``) are better explained as replays after the overlap was lost: none kept, or more than
    :data:`VANISHED_LIMIT` entries of ``previous`` that stood above the oldest kept one are gone
    from ``current`` altogether (in a list that only grew at the top they would all be there;
    a song taken out of the library takes one with it).
    """
    kept = current[new:]
    if not kept:
        return True
    present = set(current)
    bottom = list(previous).index(kept[-1])
    return sum(1 for key in previous[:bottom] if key not in present) > VANISHED_LIMIT


def order_digest(keys: Sequence[str]) -> str:
    """A short digest of a list of keys, to recognise an order seen before."""
    return hashlib.blake2b("\n".join(keys).encode(), digest_size=8).hexdigest()


def _play_id(base: str, key: str, rank: int) -> str:
    return hashlib.blake2b(f"{base}|{key}|{rank}".encode(), digest_size=10).hexdigest()


def _iso(moment: dt.datetime | None) -> str | None:
    # to the microsecond: a play found at a poll happened before the poll, not before its second
    return None if moment is None else moment.astimezone(dt.timezone.utc).isoformat()


def _parse(text: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if isinstance(text, str) else None


def play_row(
    entry: Mapping[str, Any],
    play_id: str,
    after: dt.datetime | None,
    before: dt.datetime,
    played_at: dt.datetime,
) -> dict[str, Any]:
    """One ledger row of kind ``play`` for an entry of the list."""
    attributes = entry.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    duration = attributes.get("durationInMillis")
    return {
        "kind": "play",
        "play_id": play_id,
        "id": entry.get("id"),
        "type": entry.get("type"),
        "catalog_id": catalog_id_of(entry),
        "name": attributes.get("name"),
        "artist_name": attributes.get("artistName"),
        "album_name": attributes.get("albumName"),
        "duration_ms": duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
        "observed_after": _iso(after),
        "observed_before": _iso(before),
        "estimated_played_at": _iso(played_at),
        "played_at": None,
        "source": "poll",
    }


def gap_row(base: str, after: dt.datetime | None, before: dt.datetime) -> dict[str, Any]:
    """The ledger row saying that plays between ``after`` and ``before`` may be missing."""
    return {
        "kind": "gap",
        "play_id": _play_id(base, "gap", 0),
        "id": None,
        "type": None,
        "catalog_id": None,
        "name": None,
        "artist_name": None,
        "album_name": None,
        "duration_ms": None,
        "observed_after": _iso(after),
        "observed_before": _iso(before),
        "estimated_played_at": None,
        "played_at": None,
        "source": "poll",
    }


@dataclass
class Poll:
    """What one poll found: the ledger rows, the state to keep once they are written, and why."""

    rows: list[dict[str, Any]]
    state: dict[str, Any]
    new: int = 0
    gap: bool = False
    older: bool = False
    first: bool = False


def _base_of(state: Any, run_id: str) -> Mapping[str, Any] | None:
    """The state to compute against: the run's own base when ``state`` was written by this run."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return None
    if state.get("run_id") == run_id:
        base = state.get("base")
        return base if isinstance(base, dict) else None
    return state


def _rows(
    entries: Sequence[Mapping[str, Any]],
    count: int,
    base: str,
    after: dt.datetime | None,
    before: dt.datetime,
    ranked_from: int,
) -> list[dict[str, Any]]:
    """Rows of the first ``count`` entries; the entry at index ``count - 1`` has rank ``ranked_from``."""
    rows = []
    moment = before
    for index in range(count):
        entry = entries[index]
        attributes = entry.get("attributes")
        duration = (attributes if isinstance(attributes, dict) else {}).get("durationInMillis")
        if isinstance(duration, int) and not isinstance(duration, bool) and duration > 0:
            moment = moment - dt.timedelta(milliseconds=duration)
        if after is not None and moment < after:
            moment = after
        rank = ranked_from + (count - 1 - index)
        rows.append(play_row(entry, _play_id(base, entry_key(entry), rank), after, before, moment))
    return rows


def poll(
    state: Any,
    entries: Sequence[Mapping[str, Any]],
    observed_at: dt.datetime,
    run_id: str,
) -> Poll:
    """
    The new plays in ``entries`` (the list read at ``observed_at``, newest first) against the
    ``state`` kept by the previous run (None: none), as ledger rows, and the state to keep.
    See the module for the rule.
    """
    base = _base_of(state, run_id)
    keys = [entry_key(entry) for entry in entries]
    digest = order_digest(keys)
    if base is None:
        rows = _rows(entries, len(entries), "first", None, observed_at, 1)
        kept = [[key, row["play_id"]] for key, row in zip(keys, rows, strict=True)]
        return Poll(rows, _state(run_id, observed_at, kept, [], None, None), len(rows), first=True)

    previous = [str(key) for key, _ in base["entries"]]
    ids = {str(key): str(play_id) for key, play_id in base["entries"]}
    after = _parse(base.get("observed_at"))
    seen = [str(d) for d in base.get("seen") or []]
    token = str(base.get("token"))
    pending = base.get("pending") if isinstance(base.get("pending"), dict) else None
    new = count_new(previous, keys)
    # an older order, even one that only lacks the newest plays (the list shorter than 50)
    if digest != order_digest(previous) and digest in seen:
        if not (pending and pending.get("digest") == digest and pending.get("run_id") != run_id):
            # an older order: nothing new, the previous list stays
            same = pending is not None and pending.get("digest") == digest
            held = pending if same else {"digest": digest, "run_id": run_id}
            kept_state = {**_strip(base), "pending": held}
            return Poll([], _state_from(kept_state, run_id, base), older=True)

    if previous and len(keys) >= HISTORY_LIMIT and overlap_lost(previous, keys, new):
        new = len(keys)
        rows = [gap_row(token, after, observed_at)]
        rows += _rows(entries, new, f"{token}|gap", after, observed_at, 1)
        gap = True
    else:
        rows = _rows(entries, new, token, after, observed_at, 1)
        gap = False
    kept = [[key, row["play_id"]] for key, row in zip(keys, rows[1:] if gap else rows, strict=False)]
    kept += [[key, ids[key]] for key in keys[new:]]
    history = [d for d in [order_digest(previous), *seen] if d != digest][:SEEN_ORDERS]
    plays = len(rows) - (1 if gap else 0)
    return Poll(rows, _state(run_id, observed_at, kept, history, None, _strip(base)), plays, gap=gap)


def _strip(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` without its own base (one level is enough for a retry)."""
    return {key: value for key, value in state.items() if key not in ("base", "run_id")}


def _token(run_id: str, observed_at: str | None, kept: list[list[str]]) -> str:
    text = json.dumps([run_id, observed_at, kept], separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _state(
    run_id: str,
    observed_at: dt.datetime,
    kept: list[list[str]],
    seen: list[str],
    pending: dict[str, Any] | None,
    base: dict[str, Any] | None,
) -> dict[str, Any]:
    moment = _iso(observed_at)
    return {
        "version": STATE_VERSION,
        "run_id": run_id,
        "observed_at": moment,
        "entries": kept,
        "seen": seen,
        "pending": pending,
        "token": _token(run_id, moment, kept),
        "base": base,
    }


def _state_from(kept_state: dict[str, Any], run_id: str, base: Mapping[str, Any]) -> dict[str, Any]:
    """The previous list kept as it was (an older order was read), written by ``run_id``."""
    return {**kept_state, "version": STATE_VERSION, "run_id": run_id, "base": _strip(base)}
