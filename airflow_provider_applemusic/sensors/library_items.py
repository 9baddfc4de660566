"""LibraryItemsSensor: wait until added catalog items really appear in the user's library."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from airflow_provider_applemusic.api.validation import validate_storefront
from airflow_provider_applemusic.exceptions import INCURABLE_ERRORS, AppleMusicError
from airflow_provider_applemusic.operators.base import AppleMusicBaseOperator
from airflow_provider_applemusic.transport.connection import DEFAULT_CONN_ID
from airflow_provider_applemusic.triggers.library_items import LibraryItemsTrigger
from airflow_provider_applemusic.triggers.wait_conditions import (
    MISSING_MARK,
    require_one_form,
    sensor_condition,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_applemusic.triggers.wait_conditions import Missing, WaitCondition

#: the trigger ends itself at the sensor's timeout; the scheduler's deferral timeout is a backstop
DEFERRAL_SLACK_SECONDS = 60


class LibraryItemsSensor(AppleMusicBaseOperator, BaseSensorOperator):
    """
    Wait until catalog items are in the user's library (Apple documents a delay after adding), or
    until a library playlist appears in ``/v1/me/library/playlists`` (new playlists take a while).

    Each poke looks the ids up with ``relate=library``. Done when every id has a library id;
    returns (XCom) ``{type: {catalog_id: library_id}}``. With ``playlist_id`` instead, done when
    the playlist can be fetched; returns ``{"playlists": {playlist_id: playlist_id}}``. A refused
    Music User Token fails at once; rate limits and server errors during a poke count as "not
    yet". On timeout the failure (or skip, with ``soft_fail``) names what never appeared. What is
    waited for and what is still missing is the
    :mod:`~airflow_provider_applemusic.triggers.wait_conditions` of the form; the connection id
    and the hook come from :class:`~airflow_provider_applemusic.operators.base.AppleMusicBaseOperator`.

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
        super().__init__(apple_music_conn_id=apple_music_conn_id, **kwargs)
        # ids, playlist_id and storefront are templated: checked when poked, once rendered
        require_one_form(ids, playlist_id)
        self.ids = ids
        self.playlist_id = playlist_id
        self.storefront = storefront
        self.deferrable = deferrable
        self._missing: Missing | None = None

    def _condition(self) -> WaitCondition:
        """What to wait for, from the rendered ``ids`` or ``playlist_id`` (checked)."""
        return sensor_condition(self.ids, self.playlist_id)

    def poke(self, context: Context) -> PokeReturnValue:
        """
        Look once: done with the library ids when every wanted item is there.

        :param context: the task's context.
        """
        condition = self._condition()
        validate_storefront(self.storefront)
        try:
            found = condition.look(self.hook, self.storefront)
        except INCURABLE_ERRORS as err:
            raise AirflowFailException(str(err)) from None
        except AppleMusicError as err:
            self.log.warning("Poke failed, counting it as not yet: %s", err)
            self._missing = self._missing or condition.wanted
            return PokeReturnValue(is_done=False)
        self._missing = condition.missing(found)
        if self._missing:
            self.log.info("Not in the library yet: %s", self._missing)
        return PokeReturnValue(is_done=not self._missing, xcom_value=found)

    def _timeout_message(self, missing: Missing | None) -> str:
        return self._condition().timeout_message(self.timeout, missing)

    def execute(self, context: Context) -> Any:
        """
        Poke once, then wait here or on the triggerer (``deferrable``).

        :param context: the task's context.
        """
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
                **self._condition().arguments(),
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
        """
        Resume after the trigger: return the library ids, or fail naming what is missing.

        :param context: the task's context.
        :param event: the trigger's event.
        """
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
