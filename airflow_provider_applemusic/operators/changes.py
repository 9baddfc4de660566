"""LibraryChangesOperator: what changed between two snapshots the export engine wrote."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.changes import (
    DEFAULT_IGNORED_ATTRIBUTES,
    ChangeCounts,
    check_ignored,
    diff_snapshots,
)
from airflow_provider_applemusic.files.formats import resolve_format
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.files.snapshots import local_copy, read_items
from airflow_provider_applemusic.operators.base import SNAPSHOT_STATE_KEY, UI_COLOR, FileOutputMixin

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.files.location import Location


class LibraryChangesOperator(FileOutputMixin, BaseOperator):
    """
    Write what changed between two snapshots of a library listing: a change log.

    The snapshots are files the export engine wrote (``AppleMusicExportOperator``,
    ``LibraryAlbumsToS3Operator``), in any of its formats and compressions (told from the
    bytes), on any store it writes to. The change log has one record per item that differs:
    ``{"change": "added" | "removed" | "changed", "id": ..., "item": {...}}`` with the item now
    (added, changed) or before (removed); added and changed come in the current snapshot's
    order, then removed in the previous one's. It is written like an export (same formats,
    same atomic writers): it appears only complete, and on failure nothing new appears.

    "Changed" means the same library id with different content. Attributes in
    ``ignore_attributes`` are left out of the comparison: by default ``artwork.url``, since the
    service hands out one unchanged cover from several CDN hosts and URL templates. Remember
    that library ids are not stable: an item removed and added again is a removal and an
    addition.

    Give the snapshots either as ``previous`` and ``current`` paths, or as ``snapshot_asset``:
    the asset an export lists in its ``outlets``. The export records each file it commits in
    that asset's state (``applemusic.snapshot``: ``uri``, ``previous_uri``, ``count``,
    ``ids_sha256``); this operator adds the asset to its inlets and compares ``previous_uri``
    with ``uri``. With no previous snapshot (the first run) every item is added.

    Memory grows with the number of ids (a 16-byte digest each), not with the records: the
    previous snapshot is read twice, the current one once, each streamed from a local copy.

    :param path: where the change log goes: an ``ObjectStoragePath`` or a URL, as for the
        export. (templated)
    :param previous: the earlier snapshot (None: everything in ``current`` is added). (templated)
    :param current: the later snapshot. (templated)
    :param snapshot_asset: instead of the paths: the asset whose state names the snapshots.
    :param storage_conn_id: the store's connection, for reading and writing. (templated)
    :param file_format: ``jsonl``, ``json`` or ``parquet`` (columns ``change``, ``id``,
        ``resource_json`` holding the whole record).
    :param compression: as for the export (``auto``: none for JSON, ``snappy`` for Parquet).
    :param ignore_attributes: attribute names (dotted for nested ones) not compared.
    :param replace: False: fail before reading anything if the change log exists.
    :return: ``{"uri", "added", "removed", "changed", "previous_count", "current_count",
        "previous_uri", "current_uri", "bytes", "format", "compression"}``; the same is the
        extra of the event on every outlet asset.
    """

    template_fields: Sequence[str] = ("path", "previous", "current", "storage_conn_id")
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        path: Any,
        previous: Any = None,
        current: Any = None,
        snapshot_asset: Asset | None = None,
        storage_conn_id: str | None = None,
        file_format: str = "jsonl",
        compression: str | None = "auto",
        ignore_attributes: Iterable[str] = DEFAULT_IGNORED_ATTRIBUTES,
        replace: bool = True,
        **kwargs: Any,
    ) -> None:
        if snapshot_asset is not None:
            if not isinstance(snapshot_asset, Asset):
                raise AppleMusicConfigError(
                    f"snapshot_asset must be an Asset (the export's outlet), got {snapshot_asset!r}"
                )
            if previous is not None or current is not None:
                raise AppleMusicConfigError("give either snapshot_asset or previous/current, not both")
            kwargs["inlets"] = [*(kwargs.get("inlets") or []), snapshot_asset]
        elif current is None:
            raise AppleMusicConfigError("current is required (the later snapshot), or give snapshot_asset")
        if not isinstance(replace, bool):
            raise AppleMusicConfigError(f"replace must be True or False, got {replace!r}")
        super().__init__(**kwargs)
        self.file_format, self.compression = resolve_format(file_format, compression)
        self.ignore_attributes = check_ignored(ignore_attributes)
        self.path = path
        self.previous = previous
        self.current = current
        self.snapshot_asset = snapshot_asset
        self.storage_conn_id = storage_conn_id
        self.replace = replace

    def snapshots(self, context: Context) -> tuple[str | None, str]:
        """
        The previous and current snapshot: the arguments, or the asset's recorded state.

        :param context: the task's context.
        """
        if self.snapshot_asset is None:
            return self.previous, self.current
        state = self.recorded_snapshot(context, self.snapshot_asset)
        if not isinstance(state, dict) or not state.get("uri"):
            raise AppleMusicConfigError(
                f"asset {self.snapshot_asset.name!r} has no snapshot recorded ({SNAPSHOT_STATE_KEY!r} "
                "in its state): run an export with it among its outlets first"
            )
        previous = state.get("previous_uri")
        return (str(previous) if previous else None), str(state["uri"])

    def execute(self, context: Context) -> dict[str, Any]:
        """
        Compare the two snapshots and write the change log; its counts and where it is.

        :param context: the task's context.
        """
        previous, current = self.snapshots(context)
        target = self.destination()
        sources = self._sources(target, previous, current)
        self.refuse_existing(target, nothing_was="read")
        started = time.monotonic()
        counts = ChangeCounts()
        size = self._write_changes(target, *sources, counts)
        result: dict[str, Any] = {
            "uri": target.uri,
            **counts.as_dict(),
            "previous_uri": previous,
            "current_uri": current,
            "bytes": size,
            "format": self.file_format,
            "compression": self.compression,
        }
        self.log.info(
            "%d added, %d removed, %d changed (%d items before, %d now; %s -> %s) written to %s in %.1f s",
            counts.added,
            counts.removed,
            counts.changed,
            counts.previous,
            counts.current,
            previous or "no previous snapshot",
            current,
            target.uri,
            time.monotonic() - started,
        )
        self.emit_asset_events(context, result)
        return result

    def _sources(self, target: Location, previous: Any, current: Any) -> tuple[Location | None, Location]:
        """Where the snapshots are; the change log must be neither of them."""
        sources = (
            None if previous is None else location(previous, self.storage_conn_id, param="previous"),
            location(current, self.storage_conn_id, param="current"),
        )
        for name, source in zip(("previous", "current"), sources, strict=True):
            if source == target:
                raise AppleMusicConfigError(f"path must not be the {name} snapshot ({target.uri})")
        return sources

    def _write_changes(
        self, target: Location, previous: Location | None, current: Location, counts: ChangeCounts
    ) -> int:
        """Compare the snapshots, each read from a local copy, and write the change log; its size."""
        with contextlib.ExitStack() as stack:
            current_file = stack.enter_context(local_copy(current, param="current"))
            previous_file = (
                stack.enter_context(local_copy(previous, param="previous")) if previous is not None else None
            )
            changes = diff_snapshots(
                (lambda: read_items(previous_file)) if previous_file is not None else None,
                lambda: read_items(current_file),
                counts,
                self.ignore_attributes,
            )
            return self.write(self.writer(target), changes, "changes")
