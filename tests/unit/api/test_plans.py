"""Hook operations as plans, driven by a fake transport (no sockets): the same answer sync and async."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_applemusic.api.listings import first_page_plan, page_plan
from airflow_provider_applemusic.api.plans import Plan, arun_plan, run_plan
from airflow_provider_applemusic.api.resources import listing_resource
from airflow_provider_applemusic.exceptions import (
    AppleMusicListingUnavailableError,
    AppleMusicRequestError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.hooks.operations import (
    catalog_storefront_plan,
    find_in_library_plan,
    library_playlist_plan,
)
from airflow_provider_applemusic.transport.errors import TruncatedListingError, empty_listing

if TYPE_CHECKING:
    from airflow_provider_applemusic.transport.transport import Request


class FakeTransport:
    """Answers requests from a function of the request; records what was sent."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent: list[Request] = []

    def send(self, request: Request) -> Any:
        self.sent.append(request)
        result = self.answer(request)
        if isinstance(result, BaseException):
            raise result
        return result

    async def asend(self, request: Request) -> Any:
        return self.send(request)


def both(plan_factory: Any, answer: Any) -> tuple[Any, list[Request], Any, list[Request]]:
    """Run a fresh plan sync and async over two fake transports with the same answers."""
    sync, asynchronous = FakeTransport(answer), FakeTransport(answer)

    def outcome(run: Any) -> Any:
        try:
            return run()
        except Exception as err:  # noqa: BLE001 (the plan's error is the outcome compared)
            return err

    got = outcome(lambda: run_plan(plan_factory(), sync.send))
    agot = outcome(lambda: asyncio.run(arun_plan(plan_factory(), asynchronous.asend)))
    return got, sync.sent, agot, asynchronous.sent


def test_the_user_storefront_is_asked_once_per_cache() -> None:
    cache: dict[str, str] = {}

    def plans() -> Plan[list[str]]:
        first = yield from catalog_storefront_plan(None, cache)
        second = yield from catalog_storefront_plan(None, cache)
        third = yield from catalog_storefront_plan("fr", cache)
        return [first, second, third]

    transport = FakeTransport(lambda request: {"data": [{"id": "gb"}]})
    assert run_plan(plans(), transport.send) == ["gb", "gb", "fr"]
    assert [r.path for r in transport.sent] == ["/v1/me/storefront"]


def test_a_playlist_that_is_not_found_is_none_sync_and_async() -> None:
    got, sent, agot, asent = both(lambda: library_playlist_plan("p.gone"), lambda request: None)
    assert got is None and agot is None
    assert sent == asent and sent[0].not_found == "none"


def test_find_in_library_sends_its_lookups_as_one_batch_and_orders_the_answer() -> None:
    ids = {"albums": [str(n) for n in range(150)]}

    def answer(request: Request) -> Any:
        wanted = (request.params or {})["ids"].split(",")
        return {
            "data": [{"id": i, "relationships": {"library": {"data": [{"id": f"l.{i}"}]}}} for i in wanted]
        }

    got, sent, agot, asent = both(lambda: find_in_library_plan(ids, "us", {}), answer)
    assert got == agot == {"albums": {str(n): f"l.{n}" for n in range(150)}}
    assert len(sent) == len(asent) == 2


def test_find_in_library_raises_the_incurable_failure_first() -> None:
    ids = {"albums": [str(n) for n in range(250)]}
    refused = AppleMusicUserTokenError("the Music User Token was refused (403)", status=403)

    def answer(request: Request) -> Any:
        first = (request.params or {})["ids"].split(",")[0]
        return {
            "0": AppleMusicRequestError("boom", status=500),
            "100": refused,
        }.get(first, {"data": []})

    got, _, agot, _ = both(lambda: find_in_library_plan(ids, "us", {}), answer)
    # async sends every lookup and picks the refused token; sync stops at the first failure
    assert agot is refused
    assert isinstance(got, AppleMusicRequestError)


def test_a_404_at_offset_0_of_songs_is_unavailable_when_the_library_holds_albums() -> None:
    row = listing_resource("library-songs")

    def answer(request: Request) -> Any:
        if request.path.endswith("/songs"):
            return empty_listing()
        return {"data": [{"id": "l.1"}], "meta": {"total": 7}}

    got, sent, agot, _ = both(lambda: first_page_plan(row, None, {"limit": "100"}), answer)
    assert isinstance(got, AppleMusicListingUnavailableError) and isinstance(
        agot, AppleMusicListingUnavailableError
    )
    assert "holds 7 library-albums" in str(got)
    assert [r.path for r in sent] == ["/v1/me/library/songs", "/v1/me/library/albums"]


def test_a_playlists_tracks_come_from_the_playlist_when_the_listing_answers_404() -> None:
    row = listing_resource("library-playlist-tracks")

    def answer(request: Request) -> Any:
        if request.path.endswith("/tracks"):
            return empty_listing()
        tracks = {"data": [{"id": "i.1"}, {"id": "i.1"}], "next": "/x?offset=2", "meta": {"total": 3}}
        return {"data": [{"id": "p.x", "relationships": {"tracks": tracks}}]}

    got, sent, _, _ = both(lambda: first_page_plan(row, "p.x", {"limit": "100", "extend": "x"}), answer)
    assert got == {"data": [{"id": "i.1"}, {"id": "i.1"}], "next": "/x?offset=2", "meta": {"total": 3}}
    assert sent[1].params == {"include": "tracks", "extend": "x"} and sent[1].not_found == "none"


@pytest.mark.parametrize(("total", "shrank"), [(99, True), (250, False)])
def test_a_page_that_stays_missing_ends_a_shrunk_listing_and_fails_a_long_one(
    total: int, shrank: bool, caplog: pytest.LogCaptureFixture
) -> None:
    row = listing_resource("library-albums")

    def answer(request: Request) -> Any:
        if request.offset:
            return TruncatedListingError("missing", offset=request.offset, status=404, path=request.path)
        return {"data": [{"id": "l.1"}], "meta": {"total": total}, "next": "/v1/me/library/albums?offset=100"}

    with caplog.at_level(logging.WARNING):
        got, sent, agot, _ = both(
            lambda: page_plan(row, None, {"limit": "100"}, 99, logging.getLogger("hook")), answer
        )
    assert [r.offset for r in sent] == [99, 0]
    if shrank:
        assert got == agot == {"data": [], "meta": {"total": 99}}
        assert "the library shrank" in caplog.text
    else:
        assert isinstance(got, AppleMusicRequestError) and "offset 99 stayed missing" in str(got)
        assert isinstance(agot, AppleMusicRequestError)
