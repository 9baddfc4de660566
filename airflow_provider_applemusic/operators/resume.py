"""Resuming an export after a failed try: the checkpoint in the task state store and the staged write."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import content_type
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.files.segments import SegmentEncoder
from airflow_provider_applemusic.files.staging import new_stage, reopen_stage

if TYPE_CHECKING:
    from collections import deque
    from collections.abc import Iterable, Iterator, Sequence

    from airflow_provider_applemusic.api.paging import ListingPager
    from airflow_provider_applemusic.files.location import Location
    from airflow_provider_applemusic.files.staging import Stage

#: the task-state key of an export's checkpoint
CHECKPOINT_KEY = "applemusic.export.checkpoint"
#: the layout of a checkpoint; another one is never resumed
CHECKPOINT_VERSION = 1
DEFAULT_RESUME_WITHIN = dt.timedelta(hours=24)


def resume_window(value: Any) -> dt.timedelta:
    """
    ``resume_within`` checked: a ``timedelta`` or a number of seconds (also as a string, once
    rendered), not negative; 0 never resumes.

    :param value: the argument as given (or rendered).
    """
    seconds: float | None = None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            seconds = None
    if seconds is None or seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise AppleMusicConfigError(
            "resume_within must be a timedelta or a number of seconds, 0 or more (0: never resume), "
            f"got {value!r}"
        )
    return dt.timedelta(seconds=seconds)


def fingerprint(arguments: dict[str, Any]) -> dict[str, str]:
    """
    A short hash of each argument's value (which ones changed can be told, none is kept).

    :param arguments: the arguments that shape the file, by name.
    """
    return {
        name: hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]
        for name, value in arguments.items()
    }


class ResumableWrite:
    """
    One export's write, checkpointed: where the paging stands and which parts are staged, in the
    task state store (``applemusic.export.checkpoint``) whenever parts become durable; a later try
    of the same task instance goes on from there when the arguments are the same and the
    checkpoint is younger than ``resume_within``, else it starts over, says why, and discards
    what the earlier try staged.

    :param context: the task's context (``task_state_store``, ``ti``); without a store nothing is
        checkpointed and a failed write leaves nothing behind.
    :param target: where the file goes.
    :param arguments: the operator's arguments that shape the file (a change starts over).
    :param resume_within: how old a checkpoint may be and still be resumed.
    :param log: the operator's logger.
    :param retries: the task's ``retries`` (the last try discards what it staged when it fails).
    :param resource: the exported resource.
    :param file_format: the file's format.
    :param compression: the file's compression.
    :param enrich: the enrichments the items carry (their Parquet columns).
    """

    def __init__(
        self,
        context: Any,
        target: Location,
        arguments: dict[str, Any],
        *,
        resume_within: dt.timedelta,
        log: Any,
        retries: int,
        resource: str,
        file_format: str,
        compression: str | None,
        enrich: Sequence[str] = (),
    ) -> None:
        context = context or {}
        self.store = context.get("task_state_store")
        ti = context.get("ti")
        self.try_number = int(getattr(ti, "try_number", 1) or 1)
        self.last_try = self.store is None or ti is None or self.try_number > retries
        self.target = target
        self.fingerprint = fingerprint(arguments)
        self.resume_within = resume_within
        self.log = log
        self.resource, self.file_format, self.compression = resource, file_format, compression
        self.enrich = tuple(enrich)
        self.content_type = content_type(file_format, compression)
        self.stage: Stage = new_stage(target, self.content_type)
        #: what the resumed checkpoint holds (None: starting afresh)
        self.resumed: dict[str, Any] | None = None
        self.sidecars: list[dict[str, Any]] = []
        #: the checkpoint's position: the last durable part's pager, encoder and skip count
        self.mark: dict[str, Any] | None = None
        self.started_at = dt.datetime.now(dt.timezone.utc).isoformat()

    # -- deciding ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the checkpoint: resume it, or start over (discarding its stage) and say why."""
        self.stage.prepare()
        saved = self.store.get(CHECKPOINT_KEY) if self.store is not None else None
        if not isinstance(saved, dict):
            return
        reason = self._why_not(saved)
        stage = None
        if reason is None:
            try:
                stage = reopen_stage(self.target, self.content_type, saved["stage"])
                self.sidecars = stage.reopen()
            except (ValueError, KeyError, TypeError) as err:
                reason = f"its staged parts cannot be used ({err})"
        if reason is not None:
            self.log.warning("Not resuming the export of try %s: %s; starting over", saved.get("try"), reason)
            self._discard(saved)
            return
        assert stage is not None
        self.stage, self.resumed, self.mark = stage, saved, saved["mark"]
        self.started_at = str(saved.get("started_at") or self.started_at)
        mark = saved["mark"]
        self.log.info(
            "Resuming the export of try %s (checkpoint of %s): %d pages, %d items, %d bytes staged; "
            "going on from page %d",
            saved.get("try"),
            saved.get("saved_at"),
            mark["pager"]["pages"],
            sum(len(s.get("ids", [])) for s in self.sidecars),
            mark["encoder"]["offset"],
            mark["pager"]["index"] + 1,
        )

    def _why_not(self, saved: dict[str, Any]) -> str | None:
        if saved.get("version") != CHECKPOINT_VERSION:
            return f"the checkpoint's layout is {saved.get('version')!r}, not {CHECKPOINT_VERSION}"
        if self.resume_within <= dt.timedelta(0):
            return "resume_within is 0"
        before = saved.get("fingerprint") or {}
        changed = sorted(k for k in {*before, *self.fingerprint} if before.get(k) != self.fingerprint.get(k))
        if changed:
            return f"the arguments changed since ({', '.join(changed)})"
        saved_at = dt.datetime.fromisoformat(str(saved.get("saved_at")))
        age = dt.datetime.now(dt.timezone.utc) - saved_at
        if age > self.resume_within:
            limit = _duration(self.resume_within)
            return f"the checkpoint is {_duration(age)} old, older than resume_within ({limit})"
        if not saved.get("mark"):
            return "the earlier try staged no part"
        return None

    def _discard(self, saved: dict[str, Any]) -> None:
        """Remove what the checkpoint's try staged (wherever it went), then the checkpoint."""
        try:
            old_target = location(saved["target"], saved.get("conn_id"))
            reopen_stage(old_target, self.content_type, saved["stage"]).discard()
            self.log.info("Discarded the parts staged by try %s for %s", saved.get("try"), old_target.uri)
        except Exception as err:  # noqa: BLE001 - cleanup is best effort; the target is never touched
            self.log.warning("Could not discard the parts staged by try %s: %s", saved.get("try"), err)
        if self.store is not None:
            self.store.delete(CHECKPOINT_KEY)

    # -- what a resumed pager, tally and window need -------------------------------------------

    def resume_pager(self, pager: ListingPager) -> list[str | None]:
        """
        Set ``pager`` to go on from the checkpoint; the ids written so far, in order.

        :param pager: the export's pager, not yet started.
        """
        ids = [i for sidecar in self.sidecars for i in sidecar.get("ids", [])]
        if self.mark is not None:
            pager.resume_from(self.mark["pager"], ids)
        return ids

    @property
    def skipped(self) -> int:
        """Items without ``dateAdded`` the earlier tries skipped."""
        return int(self.mark.get("skipped", 0)) if self.mark else 0

    # -- writing ---------------------------------------------------------------------------

    def write(
        self,
        batches: Iterable[list[dict[str, Any]]],
        positions: deque[dict[str, Any]],
        skipped: Any,
        *,
        replace: bool,
    ) -> int:
        """
        Encode and stage ``batches``, checkpointing as parts become durable, then commit; the
        file's size.

        :param batches: the items to write, one batch per page, in order.
        :param positions: each page's pager position, taken as the page was yielded
            (:func:`positioned`); one is taken per batch.
        :param skipped: ``skipped()`` tells the window's skip count so far.
        :param replace: False: refuse a file that appeared at the target meanwhile.
        """
        encoder = SegmentEncoder(
            self.resource,
            self.file_format,
            self.compression,
            self.mark["encoder"] if self.mark else None,
            enrich=self.enrich,
        )
        metas = [m for sidecar in self.sidecars for m in sidecar.get("metas", [])]
        iterator: Iterator[list[dict[str, Any]]] = iter(batches)
        try:
            # the first page is read before the store is touched: what fails there (a refused
            # token, a listing the account does not serve) leaves no trace in it
            head = list(itertools.islice(iterator, 1))
        except BaseException:
            if self.mark is not None and self.last_try:
                self._abandon()
            raise
        if self.mark is None:
            self.stage.start()
            self._save()
        # the segment's bytes as the encoder gave them, joined once when the segment is cut
        buffer: list[bytes] = []
        steady = True
        ids: list[Any] = []
        position: dict[str, Any] | None = None
        try:
            for batch in itertools.chain(head, iterator):
                steady = False
                position = positions.popleft()
                buffer.append(encoder.add(batch))
                ids.extend(item.get("id") for item in batch)
                if encoder.due(self.stage.part_size):
                    self._cut(encoder, buffer, ids, metas, position, skipped())
                    buffer, ids = [], []
                else:
                    self._checkpoint()  # a part uploaded in the background since
                steady = True
            steady = False
            buffer.append(encoder.finish(metas))
            tail = b"".join(buffer)
            buffer.clear()
            size = self.stage.commit(tail, replace=replace)
        except BaseException:
            self._fail(encoder, buffer, ids, metas, position, skipped(), steady)
            raise
        if self.store is not None:
            self.store.delete(CHECKPOINT_KEY)
        return size

    def _cut(
        self,
        encoder: SegmentEncoder,
        buffer: list[bytes],
        ids: list[Any],
        metas: list[str],
        position: dict[str, Any] | None,
        skipped: int,
    ) -> None:
        data, meta = encoder.cut()
        if meta:
            metas.append(meta)
        mark = {"pager": position, "encoder": encoder.state(), "skipped": skipped}
        buffer.append(data)
        segment = b"".join(buffer)
        buffer.clear()  # the segment's pieces go before it is staged: one copy in memory
        self.stage.add(segment, {"ids": ids, "metas": [meta] if meta else []}, mark)
        self._checkpoint()

    def _checkpoint(self) -> None:
        durable = self.stage.durable()
        if durable is not None:
            self.mark = durable
            self._save()

    def _save(self) -> None:
        """Record the stage's durable parts (and where paging stands after them) in the task state store."""
        if self.store is None:
            return
        checkpoint = {
            "version": CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            "target": self.target.uri,
            "conn_id": getattr(self.target, "aws_conn_id", None),
            "try": self.try_number,
            "started_at": self.started_at,
            "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "stage": self.stage.record(),
            "mark": self.mark,
        }
        retention = max(self.resume_within * 2, dt.timedelta(days=1))
        self.store.set(CHECKPOINT_KEY, checkpoint, retention=retention)

    def _abandon(self) -> None:
        """The last try failed: discard what is staged, and the checkpoint."""
        self.stage.discard()
        if self.store is not None:
            self.store.delete(CHECKPOINT_KEY)

    def _fail(
        self,
        encoder: SegmentEncoder,
        buffer: list[bytes],
        ids: list[Any],
        metas: list[str],
        position: dict[str, Any] | None,
        skipped: int,
        steady: bool,
    ) -> None:
        """A try failed: keep what it fetched for the next try, or discard it all on the last one."""
        if self.last_try:
            self._abandon()
            return
        try:
            if steady and position is not None and ids:
                # the failure came while fetching: the pages before it are whole, stage them
                self._cut(encoder, buffer, ids, metas, position, skipped)
            self.stage.flush()
            self._checkpoint()
        except Exception as err:  # noqa: BLE001 - the try's own error is what is raised
            self.log.warning("Could not checkpoint the failed try's last pages: %s", err)


def positioned(
    pages: Iterable[list[dict[str, Any]]], pager: ListingPager, positions: deque[dict[str, Any]]
) -> Iterator[list[dict[str, Any]]]:
    """
    ``pages`` as they come, each page's pager position put in ``positions`` as it is yielded.
    A stage between paging and writing may read ahead, but must give one batch per page, in
    order: :meth:`ResumableWrite.write` takes one position per batch.

    :param pages: the pager, iterated.
    :param pager: the pager (its :meth:`~ListingPager.position` after each page).
    :param positions: where the positions go.
    """
    for page in pages:
        positions.append(pager.position())
        yield page


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"
