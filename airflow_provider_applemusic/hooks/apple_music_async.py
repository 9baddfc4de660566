"""AppleMusicAsyncHook: the asyncio twin of AppleMusicHook, for triggers, driving the same plans."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_applemusic.api.ids import normalize_ids
from airflow_provider_applemusic.api.listings import first_page_plan
from airflow_provider_applemusic.api.plans import arun_plan
from airflow_provider_applemusic.api.resources import listing_resource
from airflow_provider_applemusic.api.validation import (
    validate_language,
    validate_page_size,
    validate_storefront,
)
from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
)
from airflow_provider_applemusic.hooks.base import AppleMusicHookBase, api_request
from airflow_provider_applemusic.hooks.operations import (
    catalog_storefront_plan,
    find_in_library_plan,
    library_playlist_plan,
    replay_plan,
    storefront_plan,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import httpx

    from airflow_provider_applemusic.api.plans import Plan
    from airflow_provider_applemusic.transport.concurrency import (
        AsyncAdaptiveConcurrency,
    )
    from airflow_provider_applemusic.transport.connection import (
        AppleMusicSettings,
    )
    from airflow_provider_applemusic.transport.transport import Transport


_T = TypeVar("_T")


class AppleMusicAsyncHook(AppleMusicHookBase):
    """
    The asyncio twin of :class:`AppleMusicHook`, for triggers: the same constructor arguments
    (``max_concurrency`` defaults to 4), connection settings, token minting, and the same
    transport (:meth:`~airflow_provider_applemusic.transport.transport.Transport.asend`, over
    ``httpx``) driving the same plans: each operation here is its sync namesake.

    Every hook of an event loop borrows one client per API host
    (:mod:`~airflow_provider_applemusic.transport.clients`, at most 16 connections): the pool
    bounds connections across hooks, each hook's adaptive limit bounds its own requests in
    flight. Nothing here blocks the event loop: the connection is read with
    ``aget_connection`` and validated in a worker thread; waits are ``asyncio.sleep``. Give
    the client back with :meth:`aclose` (it closes only when no other hook holds it).
    """

    hook_name = "Apple Music (async)"
    default_max_concurrency = 4
    _transport: Transport | None = None

    async def get_transport(self) -> Transport:
        """The transport, built on first use (the connection read and checked off the event loop)."""
        if self._transport is None:
            conn = await self.aget_connection(self.apple_music_conn_id)
            loaded = await asyncio.to_thread(self._load, conn)
            self._transport = self._transport_for(loaded)
        return self._transport

    async def get_settings(self) -> AppleMusicSettings:
        """The connection, validated (in a worker thread: it may read the key file)."""
        return (await self.get_transport()).settings

    @property
    def concurrency(self) -> AsyncAdaptiveConcurrency:
        """The adaptive limit every request of this hook passes (the transport must be built)."""
        if self._transport is None:
            raise AppleMusicConfigError("the async hook has sent nothing yet: its transport is not built")
        return self._transport.async_concurrency

    @property
    def _client(self) -> httpx.AsyncClient | None:
        return self._transport._client if self._transport is not None else None

    async def aclose(self) -> None:
        """Give the shared HTTP client back (safe to call more than once); other hooks keep it."""
        if self._transport is not None:
            await self._transport.aclose()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        user_token: bool = True,
        expect_json: bool = True,
        expect_data: bool = False,
        listing_offset: int | None = None,
        json_body: Any = None,
        idempotent: bool = True,
    ) -> Any:
        """
        Send one API request under the retry policy; see :meth:`AppleMusicHook.request`.

        :param method: HTTP method.
        :param path: path below the host, e.g. ``/v1/me/storefront``.
        :param params: query parameters.
        :param user_token: send the Music User Token.
        :param expect_json: decode the body (False for answers without one).
        :param expect_data: the body must carry a ``data`` list.
        :param listing_offset: the request is a page of a library listing at this offset (the listing rules of
            a 404), or None.
        :param json_body: a JSON request body (writes).
        :param idempotent: False for a write that must not be sent twice blindly.
        """
        transport = await self.get_transport()
        return await transport.asend(
            api_request(
                method,
                path,
                params,
                user_token=user_token,
                expect_json=expect_json,
                expect_data=expect_data,
                listing_offset=listing_offset,
                json_body=json_body,
                idempotent=idempotent,
            )
        )

    async def run(self, plan: Plan[_T]) -> _T:
        """
        Drive a hook operation's plan over this hook's transport.

        :param plan: the operation's plan (a generator of requests).
        """
        return await arun_plan(plan, (await self.get_transport()).asend)

    async def get_first_page(
        self, resource: str, *, page_size: int = 1, parent_id: str | None = None
    ) -> dict[str, Any]:
        """
        The first page of a library listing, asked with ``limit`` and the parameters the
        resource's every request carries (``types`` for the play history) alone (what a
        watcher's poll reads), a 404 there read as :meth:`AppleMusicHook.get_library_page` reads it: an empty
        listing, a playlist's tracks from the playlist, or
        :class:`~airflow_provider_applemusic.exceptions.AppleMusicListingUnavailableError`.

        :param resource: a row of :data:`~airflow_provider_applemusic.api.resources.LISTING_RESOURCES`.
        :param page_size: items on the page (1 to the resource's page maximum).
        :param parent_id: the playlist's library id, for ``library-playlist-tracks``.
        """
        row = listing_resource(resource)
        validate_page_size(page_size, maximum=row.page_max)
        return await self.run(first_page_plan(row, parent_id, {**dict(row.query), "limit": str(page_size)}))

    async def get_replay(self, *, language: str | None = None) -> dict[str, Any] | None:
        """
        Async :meth:`AppleMusicHook.get_replay`: the latest Replay summary, or None (no year yet).

        :param language: the API's ``l`` (a language tag).
        """
        validate_language(language)
        return await self.run(replay_plan(language))

    async def get_library_playlist(self, playlist_id: str) -> dict[str, Any] | None:
        """
        Async :meth:`AppleMusicHook.get_library_playlist`: the playlist, or None when not found.

        :param playlist_id: a library playlist id (``p.``).
        """
        return await self.run(library_playlist_plan(playlist_id))

    async def get_storefront(self) -> str:
        """Async :meth:`AppleMusicHook.get_storefront`: the user's storefront id, e.g. ``us``."""
        return await self.run(storefront_plan())

    async def catalog_storefront(self, storefront: str | None = None) -> str:
        """
        Async :meth:`AppleMusicHook.catalog_storefront`.

        :param storefront: a storefront to use as is, or None.
        """
        settings = await self.get_settings()
        return await self.run(catalog_storefront_plan(storefront or settings.storefront, self._storefronts))

    async def find_in_library(
        self, ids: Mapping[str, Iterable[str]], *, storefront: str | None = None
    ) -> dict[str, dict[str, str | None]]:
        """
        Async :meth:`AppleMusicHook.find_in_library`: ``{type: {catalog_id: library_id}}``.

        The batches (at most 100 ids each) go out together, under the hook's adaptive limit;
        when some fail, an error waiting cannot cure (a refused token) is raised first.

        :param ids: ``{type: [catalog ids]}``.
        :param storefront: storefront of the look-ups; None: :meth:`catalog_storefront`.
        """
        normalized = normalize_ids(ids)
        validate_storefront(storefront)
        settings = await self.get_settings()
        return await self.run(
            find_in_library_plan(normalized, storefront or settings.storefront, self._storefronts)
        )
