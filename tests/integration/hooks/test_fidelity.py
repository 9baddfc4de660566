"""The service's reported behaviour (shared/apple-music-api.md), each fact against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicDeveloperTokenError,
    AppleMusicRequestError,
    AppleMusicSubscriptionError,
    AppleMusicUserTokenError,
)
from airflow_provider_applemusic.hooks.apple_music import AppleMusicHook
from tests import support

ALBUMS = "/v1/me/library/albums"


def _ids(albums: list[dict[str, Any]]) -> list[str]:
    return [album["id"] for album in albums]


# -- extend=dateAdded ---------------------------------------------------------------------


def test_date_added_comes_back_only_when_asked_for(start_emulator: Any) -> None:
    start_emulator(albums=40)
    hook = AppleMusicHook()
    bare = hook.request("GET", ALBUMS, {"limit": "40"}, expect_data=True)["data"]
    assert not any("dateAdded" in album["attributes"] for album in bare)
    extended = hook.request("GET", ALBUMS, {"limit": "40", "extend": "dateAdded"}, expect_data=True)["data"]
    assert sum("dateAdded" in album["attributes"] for album in extended) >= 30


def test_every_page_asks_for_date_added_even_after_next_drops_it(start_emulator: Any) -> None:
    emulator = start_emulator(albums=450)
    albums = list(AppleMusicHook().iter_library_albums(page_size=100))
    assert albums == emulator.library()
    assert len(emulator.stats.library_pages) == 5
    assert {extend for _, extend in emulator.stats.library_pages} == {"dateAdded"}
    with_date = [a for a in albums if "dateAdded" in a["attributes"]]
    assert len(with_date) >= 0.9 * len(albums)


def test_extend_adds_values_to_date_added(start_emulator: Any) -> None:
    emulator = start_emulator(albums=150)
    hook = AppleMusicHook()
    list(hook.iter_library_albums(extend=["editorialNotes"]))
    hook.get_library_albums_page(0, extend="editorialNotes,dateAdded")
    assert {extend for _, extend in emulator.stats.library_pages} == {"dateAdded,editorialNotes"}


def test_bad_extend_is_refused_before_any_request(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    with pytest.raises(AppleMusicConfigError, match="extend must be"):
        list(AppleMusicHook().iter_library_albums(extend=["date added!"]))
    assert emulator.stats.requests == 0


# -- empty, truncated and shrinking listings ----------------------------------------------


def test_an_empty_library_answers_404_and_iterates_as_empty(start_emulator: Any) -> None:
    emulator = start_emulator(albums=0)
    hook = AppleMusicHook()
    assert list(hook.iter_library_albums()) == []
    assert hook.get_library_albums_page(0) == {"data": [], "meta": {"total": 0}}
    assert emulator.stats.statuses == {404: 2}


def test_transient_truncations_past_offset_zero_are_fetched_again(start_emulator: Any) -> None:
    emulator = start_emulator(albums=1050, truncate_every=2)
    albums = list(AppleMusicHook().iter_library_albums())
    assert albums == emulator.library()
    assert emulator.stats.statuses[404] >= 4


def test_a_200_without_data_past_offset_zero_is_a_truncation(start_emulator: Any) -> None:
    emulator = start_emulator(albums=350)
    emulator.inject("no_data", count=2, path_prefix=ALBUMS, offset=198)
    assert list(AppleMusicHook().iter_library_albums()) == emulator.library()


def test_a_permanent_truncation_fails_naming_the_offset(start_emulator: Any) -> None:
    emulator = start_emulator(albums=500)
    emulator.inject("404", count=10_000, path_prefix=ALBUMS, offset=198)
    hook = AppleMusicHook(max_attempts=3, max_retry_seconds=5)
    with pytest.raises(AppleMusicRequestError, match="the page at offset 198 stayed missing") as info:
        list(hook.iter_library_albums())
    assert info.value.status == 404
    # three attempts at offset 198, then the first page read again to see whether it shrank
    assert [offset for offset, _ in emulator.stats.library_pages][-4:] == [198, 198, 198, 0]


def test_a_library_that_shrinks_while_paged_ends_cleanly(start_emulator: Any, capsys: Any) -> None:
    emulator = start_emulator(albums=300)
    before = emulator.library()
    iterator = AppleMusicHook(max_attempts=2, max_retry_seconds=5).iter_library_albums()
    first_page = [next(iterator) for _ in range(100)]
    emulator.change_library(add=0, remove=250)
    rest = list(iterator)
    assert rest == []
    assert first_page == before[:100]
    # the page after the shrink answered 404 twice (the budget), then the first page was read
    assert [offset for offset, _ in emulator.stats.library_pages][-3:] == [99, 99, 0]
    assert "the library shrank" in capsys.readouterr().out


# -- which token a 401 means --------------------------------------------------------------


def _pre_minted(emulator: Any, set_connection: Any, token: str) -> None:
    fields = emulator.connection_dict()
    fields.pop("password")
    fields.pop("login")
    fields["extra"]["developer_token"] = token
    set_connection(**fields)


@pytest.mark.parametrize("pre_minted", [False, True])
def test_a_401_for_a_revoked_user_token_names_the_user_token(
    start_emulator: Any, set_connection: Any, pre_minted: bool
) -> None:
    emulator = start_emulator(albums=20, user_token_refusal=401)
    if pre_minted:
        _pre_minted(emulator, set_connection, AppleMusicHook().get_developer_token())
    emulator.revoke_user_token()
    with pytest.raises(AppleMusicUserTokenError, match=r"Music User Token was refused \(401\)") as info:
        list(AppleMusicHook().iter_library_albums())
    assert info.value.status == 401
    assert "developer token is valid" in str(info.value)
    assert emulator.user_token not in str(info.value)
    ok, message = AppleMusicHook().test_connection()
    assert not ok
    assert message == (
        "developer token accepted; Music User Token refused (401): mint a new one with MusicKit "
        "and update the connection's extra 'music_user_token'"
    )


@pytest.mark.parametrize("pre_minted", [False, True])
def test_a_401_for_the_developer_token_names_the_developer_token(
    start_emulator: Any, set_connection: Any, pre_minted: bool
) -> None:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    emulator = start_emulator(albums=20, user_token_refusal=401)
    stranger = AppleMusicEmulator(seed=4242)
    if pre_minted:
        with stranger:
            fields = stranger.connection_dict()
            fields["host"] = emulator.url
            set_connection(**fields)
            foreign_token = AppleMusicHook().get_developer_token()
        _pre_minted(emulator, set_connection, foreign_token)
    else:
        fields = emulator.connection_dict()
        fields["password"] = stranger.private_key_pem
        set_connection(**fields)
    with pytest.raises(AppleMusicDeveloperTokenError) as info:
        list(AppleMusicHook().iter_library_albums())
    assert "Music User Token" not in str(info.value)
    ok, message = AppleMusicHook().test_connection()
    assert not ok
    assert message.startswith("developer token refused (401): ")
    assert "apple_music_default" not in message
    assert message.count("refused") == 1


def test_a_401_the_check_cannot_attribute_says_either_token(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, user_token_refusal=401)
    emulator.revoke_user_token()
    emulator.inject("500", count=10_000, path_prefix="/v1/storefronts/")
    with pytest.raises(AppleMusicDeveloperTokenError, match="either token may be at fault"):
        AppleMusicHook(max_attempts=2, max_retry_seconds=2).get_storefront()


def test_test_connection_reports_both_tokens_when_all_is_well(start_emulator: Any) -> None:
    start_emulator(albums=5)
    assert AppleMusicHook().test_connection() == (
        True,
        "developer token accepted; Music User Token accepted; storefront 'us'",
    )


# -- no subscription, lifetime, 504 -------------------------------------------------------


def test_insufficient_privileges_is_not_retried_and_says_what_is_needed(start_emulator: Any) -> None:
    emulator = start_emulator(albums=20, no_subscription=True)
    with pytest.raises(AppleMusicSubscriptionError, match="subscription with Sync Library") as info:
        list(AppleMusicHook().iter_library_albums())
    assert (info.value.status, info.value.code) == (403, "40015")
    assert emulator.stats.requests == 1
    ok, message = AppleMusicHook().test_connection()
    assert not ok and "Insufficient Privileges" in message and "Sync Library" in message


def test_a_token_lifetime_over_180_days_is_refused_naming_the_field(
    start_emulator: Any, set_connection: Any
) -> None:
    emulator = start_emulator(albums=5)
    fields = emulator.connection_dict()
    fields["extra"]["token_lifetime_seconds"] = 15_552_001
    set_connection(**fields)
    with pytest.raises(AppleMusicConfigError, match="'token_lifetime_seconds' must be an integer from 60 to"):
        AppleMusicHook().get_storefront()
    assert emulator.stats.requests == 0


def test_the_emulator_refuses_tokens_living_longer_than_180_days(start_emulator: Any) -> None:
    import time

    emulator = start_emulator(albums=5)
    now = int(time.time())
    for lifetime, status in ((15_552_000, 200), (15_552_001, 401), (15_777_000, 401)):
        token = support.developer_token(emulator, claims={"iat": now, "exp": now + lifetime})
        answer = support.get(emulator, "/v1/storefronts/us", token=token, user_token=None)
        assert answer.status_code == status, lifetime


def test_gateway_timeouts_are_retried(start_emulator: Any) -> None:
    emulator = start_emulator(albums=250)
    emulator.inject("504", count=3, path_prefix=ALBUMS)
    assert list(AppleMusicHook().iter_library_albums()) == emulator.library()
    assert emulator.stats.statuses[504] == 3
