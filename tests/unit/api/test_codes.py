"""ISRC and UPC/EAN handling: normalisation, validation, batching and the one-of-several choice."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.api.codes import CODES_PER_REQUEST, choose, code_lookups, normalize_codes
from airflow_provider_applemusic.exceptions import AppleMusicConfigError


def test_codes_are_normalised_and_deduplicated_in_order() -> None:
    assert normalize_codes(["us-um7-17-03861", "USUM71703861", " gbaye 0601498 "], "isrcs") == [
        "USUM71703861",
        "GBAYE0601498",
    ]
    assert normalize_codes("0602547-924353, 5099902894225", "upcs") == ["0602547924353", "5099902894225"]
    assert normalize_codes(None, "isrcs") == []


@pytest.mark.parametrize(
    ("param", "values", "message"),
    [
        ("isrcs", ["U1UM71703861"], "isrcs holds 'U1UM71703861': a code is 2 letters"),
        ("isrcs", ["USUM7170386"], "isrcs holds"),
        ("upcs", ["12345678901"], "upcs holds '12345678901': a code is 12 \\(UPC\\) or 13 \\(EAN\\) digits"),
        ("upcs", ["60254792435X"], "upcs holds"),
        ("upcs", [602547924353], "not a string code"),
        ("isrcs", {"a": 1}, "isrcs must be a list of codes"),
    ],
)
def test_bad_codes_are_refused_naming_the_parameter(param: str, values: object, message: str) -> None:
    with pytest.raises(AppleMusicConfigError, match=message):
        normalize_codes(values, param)


def test_look_ups_go_in_batches() -> None:
    codes = [f"USUM7{n:07d}" for n in range(CODES_PER_REQUEST * 2 + 3)]
    lookups = code_lookups("isrcs", codes, "gb")
    assert [path for path, _ in lookups] == ["/v1/catalog/gb/songs"] * 3
    sent = [params["filter[isrc]"].split(",") for _, params in lookups]
    assert [len(batch) for batch in sent] == [CODES_PER_REQUEST, CODES_PER_REQUEST, 3]
    assert [code for batch in sent for code in batch] == codes
    assert code_lookups("upcs", ["602547924353"], "us") == [
        ("/v1/catalog/us/albums", {"filter[upc]": "602547924353"})
    ]


def test_the_earliest_release_then_the_smallest_id_is_chosen() -> None:
    single = {"id": "300", "attributes": {"releaseDate": "2017-01-06"}}
    album = {"id": "200", "attributes": {"releaseDate": "2017-03-03"}}
    compilation = {"id": "100", "attributes": {"releaseDate": "2020-11-20"}}
    twin = {"id": "250", "attributes": {"releaseDate": "2017-01-06"}}
    undated = {"id": "50", "attributes": {}}
    assert choose([album, compilation, single]) == "300"
    assert choose([single, twin]) == "250"
    assert choose([undated, compilation]) == "100"
    assert choose([]) is None
