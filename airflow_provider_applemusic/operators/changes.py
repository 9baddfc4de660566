"""LibraryChangesOperator: what changed between two snapshots the export engine wrote."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator

from airflow_provider_applemusic.changes import (
    DEFAULT_IGNORED_ATTRIBUTES,
    ChangeCounts,
    check_ignored,
    diff_snapshots,
)
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.export import content_type, encode, resolve_format
from airflow_provider_applemusic.operators.export import SNAPSHOT_STATE_KEY
from airflow_provider_applemusic.snapshots import local_copy, read_items
from airflow_provider_applemusic.writers import ExportWriter, writer_for

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from airflow.sdk import Context


class LibraryChangesOperator(BaseOperator):
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
    ui_color = "#fc3c44"

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
        """The previous and current snapshot: the arguments, or the asset's recorded state."""
        if self.snapshot_asset is None:
            return self.previous, self.current
        state = context["asset_state_store"][self.snapshot_asset].get(SNAPSHOT_STATE_KEY)
        if not isinstance(state, dict) or not state.get("uri"):
            raise AppleMusicConfigError(
                f"asset {self.snapshot_asset.name!r} has no snapshot recorded ({SNAPSHOT_STATE_KEY!r} "
                "in its state): run an export with it among its outlets first"
            )
        previous = state.get("previous_uri")
        return (str(previous) if previous else None), str(state["uri"])

    def destination(self) -> ExportWriter:
        """The atomic writer for the rendered ``path``."""
        return writer_for(self.path, self.storage_conn_id, content_type(self.file_format, self.compression))

    def execute(self, context: Context) -> dict[str, Any]:
        previous, current = self.snapshots(context)
        writer = self.destination()
        for name, snapshot in (("previous", previous), ("current", current)):
            if snapshot is not None and writer.uri == writer_for(snapshot, self.storage_conn_id, "").uri:
                raise AppleMusicConfigError(f"path must not be the {name} snapshot ({writer.uri})")
        if not self.replace and writer.exists():
            raise AppleMusicConfigError(f"{writer.uri} already exists and replace=False: nothing was read")
        started = time.monotonic()
        counts = ChangeCounts()
        with contextlib.ExitStack() as stack:
            current_file = stack.enter_context(local_copy(current, self.storage_conn_id, param="current"))
            previous_file = (
                stack.enter_context(local_copy(previous, self.storage_conn_id, param="previous"))
                if previous is not None
                else None
            )
            changes = diff_snapshots(
                (lambda: read_items(previous_file)) if previous_file is not None else None,
                lambda: read_items(current_file),
                counts,
                self.ignore_attributes,
            )
            size = writer.write(
                encode(changes, "changes", self.file_format, self.compression), replace=self.replace
            )
        result: dict[str, Any] = {
            "uri": writer.uri,
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
            writer.uri,
            time.monotonic() - started,
        )
        events = context.get("outlet_events")
        if events is not None:
            for outlet in self.outlets or ():
                events[outlet].extra = result
        return result
