"""AddToLibraryOperator: add catalog albums, songs, playlists and music videos to the library."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_applemusic.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from airflow_provider_applemusic.ids import parse_ids
from airflow_provider_applemusic.validation import validate_language, validate_storefront

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

ON_UNKNOWN = ("fail", "warn", "ignore")


class AddToLibraryOperator(BaseOperator):
    """
    Add catalog resources to the user's library (``POST /v1/me/library``).

    Apple answers 202 and silently ignores ids it cannot add, so by default the ids are first
    looked up in the catalog: unknown ids fail the task before anything is added. Ids are
    validated and de-duplicated before any request, and sent in batches (never a 414).

    :param ids: ``{type: [catalog ids]}``; types ``albums``, ``songs``, ``playlists``,
        ``music-videos``; a type's ids may be one comma-separated string; a rendered string is
        parsed as JSON. (templated)
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param language: the API's ``l`` (a language tag). (templated)
    :param storefront: storefront for the catalog look-up; default the connection's, else the
        user's. (templated)
    :param on_unknown: ``fail`` (default): fail before any POST naming unknown ids; ``warn``:
        log them and leave them out; ``ignore``: no look-up, post everything.
    :return: the normalised mapping actually requested (feed it to ``LibraryItemsSensor``).
    """

    template_fields: Sequence[str] = ("ids", "apple_music_conn_id", "language", "storefront")
    ui_color = "#fc3c44"

    def __init__(
        self,
        *,
        ids: Any,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        language: str | None = None,
        storefront: str | None = None,
        on_unknown: str = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # ids, language and storefront are templated: checked in execute, once rendered
        if on_unknown not in ON_UNKNOWN:
            raise AppleMusicConfigError(
                f"on_unknown must be one of {', '.join(ON_UNKNOWN)}, got {on_unknown!r}"
            )
        self.ids = ids
        self.apple_music_conn_id = apple_music_conn_id
        self.language = language
        self.storefront = storefront
        self.on_unknown = on_unknown

    @cached_property
    def hook(self) -> AppleMusicHook:
        """The Apple Music hook."""
        return AppleMusicHook(self.apple_music_conn_id)

    def execute(self, context: Context) -> dict[str, list[str]]:
        wanted = parse_ids(self.ids)
        validate_language(self.language)
        validate_storefront(self.storefront)
        self.hook.validate()
        if self.on_unknown != "ignore":
            known = self.hook.find_in_library(wanted, storefront=self.storefront)
            unknown = {
                kind: [cid for cid in values if cid not in known.get(kind, {})]
                for kind, values in wanted.items()
            }
            unknown = {kind: values for kind, values in unknown.items() if values}
            if unknown and self.on_unknown == "fail":
                raise AppleMusicConfigError(
                    f"ids holds catalog ids the catalog does not know (nothing was added): "
                    f"{unknown}; check them, or pass on_unknown='warn' to add the others"
                )
            if unknown:
                self.log.warning("Leaving out catalog ids the catalog does not know: %s", unknown)
                wanted = {
                    kind: [cid for cid in values if cid in known.get(kind, {})]
                    for kind, values in wanted.items()
                }
                wanted = {kind: values for kind, values in wanted.items() if values}
        if not wanted:
            self.log.warning("No known catalog ids left to add: nothing was posted")
            return {}
        self.hook.add_to_library(wanted, language=self.language)
        self.log.info(
            "Asked Apple Music to add %d items: %s",
            sum(len(v) for v in wanted.values()),
            {kind: len(values) for kind, values in wanted.items()},
        )
        return wanted
