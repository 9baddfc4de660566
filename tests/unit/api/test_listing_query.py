"""A listing's query: every argument checked once, where it is made; the holder trusts it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_applemusic.api.listings import ListingQuery
from airflow_provider_applemusic.api.plans import run_plan
from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from airflow_provider_applemusic.transport.transport import Request


def test_checked_query_carries_every_parameter_of_a_page_but_the_offset() -> None:
    query = ListingQuery.checked("library-albums", page_size=50, include=["catalog"], language="en-GB")

    assert query.params == {"limit": "50", "include": "catalog", "extend": "dateAdded", "l": "en-GB"}
    assert query.page_size == 50
    assert query.row.name == "library-albums"


def test_page_size_defaults_to_the_resource_maximum_and_the_row_query_is_added() -> None:
    query = ListingQuery.checked("recently-played-tracks")

    assert query.page_size == 30
    assert query.params["types"] == "songs,library-songs"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"page_size": 101}, "page_size must be an integer from 1 to 100"),
        ({"page_size": True}, "page_size must be"),
        ({"include": ["cat alog"]}, "include must be relationship names"),
        ({"extend": [3]}, "extend must be relationship names"),
        ({"language": "english!"}, "language must be a language tag"),
    ],
)
def test_a_bad_argument_is_refused_naming_it(arguments: dict[str, object], named: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=named):
        ListingQuery.checked("library-albums", **arguments)  # type: ignore[arg-type]


def test_with_language_sets_replaces_or_drops_l_and_checks_it() -> None:
    query = ListingQuery.checked("library-songs", language="en-US")

    assert query.with_language("fr-FR").params["l"] == "fr-FR"
    assert "l" not in query.with_language(None).params
    assert query.params["l"] == "en-US"  # the original is unchanged
    with pytest.raises(AppleMusicConfigError, match="language must be a language tag"):
        query.with_language("no way")


def test_page_plan_sends_the_query_with_the_offset_once() -> None:
    query = ListingQuery.checked("library-playlist-tracks", page_size=10, parent_id="p.A")
    sent: list[Request] = []

    def send(request: Request) -> dict[str, object]:
        sent.append(request)
        return {"data": [{"id": "i.1"}]}

    page = run_plan(query.page(20), send)

    assert page == {"data": [{"id": "i.1"}]}
    assert [(r.path, r.params["offset"], r.offset) for r in sent] == [
        ("/v1/me/library/playlists/p.A/tracks", "20", 20)
    ]
