"""What the operators share: the base operator (connection, hook) and the mixin of those that write files."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.formats import content_type, encode
from airflow_provider_applemusic.files.location import location
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.files.location import Location
    from airflow_provider_applemusic.files.writers import ExportWriter

    _OperatorMixinBase = BaseOperator
else:
    _OperatorMixinBase = object

#: the connection every Apple Music operator uses unless told otherwise
DEFAULT_CONN_ID: str = AppleMusicHook.default_conn_name
#: the asset-state key under which an export records its last snapshot on each outlet asset
SNAPSHOT_STATE_KEY = "applemusic.snapshot"
UI_COLOR = "#fc3c44"


class AppleMusicBaseOperator(BaseOperator):
    """
    The base of every operator that talks to Apple Music: the connection id and the hook.

    The hook is made on first use (never at construction: the DAG processor constructs operators
    at every parse); a subclass passes it more arguments through :attr:`hook_params`.

    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    """

    template_fields: Sequence[str] = ("apple_music_conn_id",)
    ui_color = UI_COLOR

    def __init__(self, *, apple_music_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apple_music_conn_id = apple_music_conn_id

    @property
    def hook_params(self) -> dict[str, Any]:
        """Keyword arguments of the hook besides the connection id."""
        return {}

    @cached_property
    def hook(self) -> AppleMusicHook:
        """The Apple Music hook of ``apple_music_conn_id``."""
        return AppleMusicHook(self.apple_music_conn_id, **self.hook_params)


class FileOutputMixin(_OperatorMixinBase):
    """
    What every operator that writes a file repeats: where the file goes, the ``replace`` guard,
    the atomic write, the extra of every outlet asset's event, and asset state.

    The operator sets ``replace``, ``file_format`` and ``compression`` (checked), and ``path`` and
    ``storage_conn_id`` unless it overrides :meth:`destination`.
    """

    path: Any
    storage_conn_id: str | None
    replace: bool
    file_format: str
    compression: str | None

    def destination(self) -> Location:
        """Where the file goes: the rendered ``path`` in its store."""
        return location(self.path, self.storage_conn_id)

    def writer(self, target: Location) -> ExportWriter:
        """
        The atomic writer of ``target`` for this operator's format.

        :param target: the destination.
        """
        return target.writer(content_type(self.file_format, self.compression))

    def refuse_existing(self, target: Location, *, nothing_was: str) -> None:
        """
        With ``replace=False``, fail when a file is at ``target`` already.

        :param target: the destination.
        :param nothing_was: what the error says was not done, e.g. ``"requested"``.
        """
        if not self.replace and target.exists():
            raise AppleMusicConfigError(
                f"{target.uri} already exists and replace=False: nothing was {nothing_was}"
            )

    def write(
        self,
        writer: ExportWriter,
        batches: Iterable[list[dict[str, Any]]],
        resource: str,
        *,
        enrich: Sequence[str] = (),
    ) -> int:
        """
        Encode ``batches`` of ``resource`` items and write them with ``writer``; the size.

        :param writer: an atomic writer (:meth:`writer`).
        :param batches: lists of items, in order.
        :param resource: the resource the items are of (its Parquet schema).
        :param enrich: the enrichments the items carry (their Parquet columns).
        """
        chunks = encode(batches, resource, self.file_format, self.compression, enrich=enrich)
        return writer.write(chunks, replace=self.replace)

    def emit_asset_events(self, context: Context, extra: dict[str, Any]) -> None:
        """
        Put ``extra`` on the event of every outlet asset.

        :param context: the task's context.
        :param extra: the extra of each event.
        """
        events = context.get("outlet_events")
        if events is None:
            return
        for outlet in self.outlets or ():
            events[outlet].extra = extra

    def record_snapshot(self, context: Context, state: Callable[[Any], dict[str, Any]]) -> None:
        """
        Record the written file in the state of every outlet asset (key ``applemusic.snapshot``)
        as ``state(what was recorded before, or None)``, once it is committed;
        ``LibraryChangesOperator(snapshot_asset=...)`` reads it.

        :param context: the task's context.
        :param state: makes the new state from the one recorded before (or None).
        """
        stores = context.get("asset_state_store")
        if stores is None:
            return
        for outlet in self.outlets or ():
            if isinstance(outlet, Asset):
                store = stores[outlet]
                recorded = state(store.get(SNAPSHOT_STATE_KEY))
                store.set(SNAPSHOT_STATE_KEY, recorded)
                self.log.info("Recorded the snapshot in the state of %s: %s", outlet.name, recorded)

    @staticmethod
    def recorded_snapshot(context: Context, asset: Asset) -> Any:
        """
        What an export recorded in the state of ``asset`` (an inlet), or None.

        :param context: the task's context.
        :param asset: an inlet asset an export writes.
        """
        return context["asset_state_store"][asset].get(SNAPSHOT_STATE_KEY)
