"""AppleMusicAsyncHook's shared HTTP client (one per event loop and API host), against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_applemusic.hooks.apple_music import AppleMusicAsyncHook
from airflow_provider_applemusic.transport.clients import MAX_CONNECTIONS, open_clients


async def test_hooks_of_one_loop_share_one_client_and_one_aclose_does_not_close_it(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=10)
    first, second = AppleMusicAsyncHook(), AppleMusicAsyncHook()
    assert await first.get_storefront() == "us"
    assert await second.get_storefront() == "us"
    shared = first._client
    assert shared is not None and second._client is shared and open_clients() == 1
    await first.aclose()
    assert not shared.is_closed
    assert await second.get_storefront() == "us"
    assert emulator.stats.paths["/v1/me/storefront"] == 3
    await second.aclose()
    assert shared.is_closed and open_clients() == 0


async def test_hooks_of_different_hosts_get_different_clients(
    start_emulator: Any, set_connection: Any
) -> None:
    other = start_emulator(albums=10, seed=8)
    set_connection("apple_music_other", **other.connection_dict())
    one = start_emulator(albums=10)  # apple_music_default
    first, second = AppleMusicAsyncHook(), AppleMusicAsyncHook("apple_music_other")
    try:
        await first.get_storefront()
        await second.get_storefront()
        assert first._client is not second._client and open_clients() == 2
        assert one.stats.requests == 1 and other.stats.requests == 1
    finally:
        await first.aclose()
        await second.aclose()


async def test_cancelling_one_hooks_request_leaves_another_hooks_request_in_flight(
    start_emulator: Any,
) -> None:
    emulator = start_emulator(albums=10, latency_ms=400)
    stalled, working = AppleMusicAsyncHook(), AppleMusicAsyncHook()
    emulator.inject("slow", count=1, path_prefix="/v1/me/library/playlists")
    try:
        doomed = asyncio.ensure_future(stalled.get_library_playlist("p.abcdef"))
        survivor = asyncio.ensure_future(working.get_storefront())
        while emulator.stats.in_flight < 2:
            await asyncio.sleep(0.01)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        await stalled.aclose()
        assert await survivor == "us"
        assert working._client is not None and not working._client.is_closed
        assert await working.get_storefront() == "us"
    finally:
        await stalled.aclose()
        await working.aclose()


async def test_many_hooks_open_at_most_the_pool_s_connections(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, latency_ms=200)
    hooks = [AppleMusicAsyncHook() for _ in range(3 * MAX_CONNECTIONS)]
    try:
        fronts = await asyncio.gather(*(hook.get_storefront() for hook in hooks))
        assert fronts == ["us"] * len(hooks)
        assert 1 < emulator.stats.max_in_flight <= MAX_CONNECTIONS
        assert emulator.stats.paths["/v1/me/storefront"] == len(hooks)
    finally:
        for hook in hooks:
            await hook.aclose()
    assert open_clients() == 0
