"""LibraryItemsSensor: wait until added catalog items really appear in the user's library."""

from __future__ import annotations

import datetime as dt
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from airflow_provider_applemusic.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicConfigError, AppleMusicError
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook, playlist_path
from airflow_provider_applemusic.ids import missing_ids, parse_ids
from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger
from airflow_provider_applemusic.validation import validate_storefront

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

#: the trigger ends itself at the sensor's timeout; the scheduler's deferral timeout is a backstop
DEFERRAL_SLACK_SECONDS = 60
#: how the sensor's own timeout message starts
MISSING_MARK = "Items never appeared in the library within"


class LibraryItemsSensor(BaseSensorOperator):
    """
    Wait until catalog items are in the user's library (Apple documents a delay after adding), or
    until a library playlist appears in ``/v1/me/library/playlists`` (new playlists take a while).

    Each poke looks the ids up with ``relate=library``. Done when every id has a library id;
    returns (XCom) ``{type: {catalog_id: library_id}}``. With ``playlist_id`` instead, done when
    the playlist can be fetched; returns ``{"playlists": {playlist_id: playlist_id}}``. A refused
    Music User Token fails at once; rate limits and server errors during a poke count as "not
    yet". On timeout the failure (or skip, with ``soft_fail``) names what never appeared.

    :param ids: ``{type: [catalog ids]}`` (``albums``, ``songs``, ``playlists``,
        ``music-videos``); a rendered string is parsed as JSON, so ``ids=add.output`` works.
        (templated)
    :param playlist_id: a library playlist's id (``p.…``) to wait for, instead of ``ids``.
        (templated)
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param storefront: the catalog storefront; default the connection's, else the user's.
        (templated)
    :param deferrable: poke once, then wait on the triggerer (``LibraryItemsTrigger``).
        Defaults to ``[operators] default_deferrable``.
    """

    template_fields: Sequence[str] = ("ids", "playlist_id", "apple_music_conn_id", "storefront")
    ui_color = "#fc3c44"

    def __init__(
        self,
        *,
        ids: Any = None,
        playlist_id: str | None = None,
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        storefront: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # ids, playlist_id and storefront are templated: checked when poked, once rendered
        if (ids is None) == (playlist_id is None):
            raise AppleMusicConfigError(
                "give either ids (catalog items to wait for) or playlist_id (a library playlist), "
                f"not {'both' if ids is not None else 'neither'}"
            )
        self.ids = ids
        self.playlist_id = playlist_id
        self.apple_music_conn_id = apple_music_conn_id
        self.storefront = storefront
        self.deferrable = deferrable
        self._missing: dict[str, list[str]] | None = None

    @cached_property
    def hook(self) -> AppleMusicHook:
        """The Apple Music hook."""
        return AppleMusicHook(self.apple_music_conn_id)

    def _wanted(self) -> dict[str, list[str]]:
        """What to wait for: the parsed ids, or ``{"playlists": [playlist_id]}`` (checked)."""
        if self.playlist_id is not None:
            playlist_path(self.playlist_id)  # checks the id
            return {"playlists": [self.playlist_id]}
        return parse_ids(self.ids)

    def poke(self, context: Context) -> PokeReturnValue:
        wanted = self._wanted()
        validate_storefront(self.storefront)
        found: dict[str, dict[str, str | None]]
        try:
            if self.playlist_id is not None:
                present = self.hook.get_library_playlist(self.playlist_id) is not None
                found = {"playlists": {self.playlist_id: self.playlist_id}} if present else {"playlists": {}}
            else:
                found = self.hook.find_in_library(wanted, storefront=self.storefront)
        except INCURABLE_ERRORS as err:
            raise AirflowFailException(str(err)) from None
        except AppleMusicError as err:
            self.log.warning("Poke failed, counting it as not yet: %s", err)
            self._missing = self._missing or wanted
            return PokeReturnValue(is_done=False)
        self._missing = missing_ids(wanted, found)
        if self._missing:
            self.log.info("Not in the library yet: %s", self._missing)
        return PokeReturnValue(is_done=not self._missing, xcom_value=found)

    def _timeout_message(self, missing: dict[str, list[str]] | None) -> str:
        if self.playlist_id is not None:
            return (
                f"{MISSING_MARK} {self.timeout:g} s: {missing or {'playlists': [self.playlist_id]}}. "
                "A new playlist takes a while to appear; an id that never appears may be wrong."
            )
        return (
            f"{MISSING_MARK} {self.timeout:g} s: {missing or self.ids}. "
            "They may be unknown catalog ids or unavailable in the storefront (Apple ignores "
            "such ids when adding them)."
        )

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as err:
                raise AirflowSensorTimeout(self._timeout_message(self._missing)) from err
            except AirflowSkipException as err:
                if self._missing and "timed out" in str(err):
                    raise AirflowSkipException(self._timeout_message(self._missing)) from err
                raise
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        self.defer(
            trigger=LibraryItemsTrigger(
                ids=None if self.playlist_id is not None else self._wanted(),
                playlist_id=self.playlist_id,
                apple_music_conn_id=self.apple_music_conn_id,
                storefront=self.storefront,
                poll_interval=self.poke_interval,
                deadline=time.time() + self.timeout,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=self.timeout + DEFERRAL_SLACK_SECONDS),
        )

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """
        Resume after the trigger, letting the sensor's own skip or timeout through unchanged.

        ``BaseSensorOperator.resume_execution`` turns every ``AirflowException`` raised on
        resume, skips included, into a generic "Skipping due to soft_fail is set to True." (or
        never_fail): the message naming the missing ids would be lost. Everything else (a trigger
        failure, the scheduler's deferral timeout) keeps the base class's handling.

        :param next_method: the method to resume in (``execute_complete``).
        :param next_kwargs: its keyword arguments (the trigger's ``event``).
        :param context: the task's context.
        """
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except AirflowSkipException as err:
            own = err.__cause__
            if isinstance(own, AirflowSkipException):
                raise own from None
            if isinstance(own, AirflowSensorTimeout) and MISSING_MARK in str(own):
                raise AirflowSkipException(str(own)) from None
            raise

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger: return the library ids, or fail naming what is missing."""
        status = event.get("status")
        if status == "success":
            self.log.info("All items are in the library: %s", event["found"])
            return event["found"]
        if status == "timeout":
            message = self._timeout_message(event.get("missing"))
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        # the trigger ends with an error only for what waiting cannot cure
        raise AirflowFailException(str(event.get("message") or event))
