"""AddToLibraryOperator against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator


def _run(**kwargs: Any) -> Any:
    return AddToLibraryOperator(task_id="add", **kwargs).execute({})  # type: ignore[arg-type]


def test_adds_and_returns_the_normalised_mapping(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, add_delay=0)
    albums = emulator.catalog_ids("albums")[:2]
    playlist = emulator.catalog_ids("playlists")[0]
    result = _run(ids={"albums": f"{albums[0]},{albums[1]},{albums[0]}", "playlists": [playlist]})
    assert result == {"albums": albums, "playlists": [playlist]}
    assert emulator.stats.posts == 1
    assert set(albums) <= set(emulator.library_ids("albums"))


def test_json_string_from_a_template_is_parsed(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, add_delay=0)
    album = emulator.catalog_ids("albums")[0]
    assert _run(ids=f'{{"albums": ["{album}"]}}') == {"albums": [album]}


def test_unknown_id_fails_before_any_post_naming_it(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    album = emulator.catalog_ids("albums")[0]
    with pytest.raises(AppleMusicConfigError, match="999999999"):
        _run(ids={"albums": [album, "999999999"]})
    assert emulator.stats.posts == 0


def test_warn_drops_unknown_ids_from_request_and_result(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10, add_delay=0)
    album = emulator.catalog_ids("albums")[0]
    assert _run(ids={"albums": [album, "999999999"]}, on_unknown="warn") == {"albums": [album]}
    assert emulator.stats.posts == 1


def test_ignore_posts_everything_without_a_lookup(start_emulator: Any) -> None:
    emulator = start_emulator(albums=10)
    assert _run(ids={"albums": ["999999999"]}, on_unknown="ignore") == {"albums": ["999999999"]}
    assert emulator.stats.posts == 1
    assert emulator.stats.paths["/v1/catalog/us/albums"] == 0


def test_fifty_thousand_ids_become_many_short_requests(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    ids = [str(1_000_000_000 + n) for n in range(50_000)]
    _run(ids={"songs": ids}, on_unknown="ignore")
    assert emulator.stats.posts == 500
    assert emulator.stats.statuses.get(414, 0) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ids": {}}, "holds no catalog ids"),
        ({"ids": {"podcasts": ["1"]}}, "unknown resource type 'podcasts'"),
        ({"ids": {"albums": ["pl.abc"]}}, "malformed catalog id 'pl.abc'"),
        ({"ids": "not json"}, "not JSON"),
        ({"ids": {"albums": ["1"]}, "language": "english please"}, "language must be a language tag"),
        ({"ids": {"albums": ["1"]}, "storefront": "USA"}, "storefront must be a two-letter"),
    ],
)
def test_bad_templated_arguments_fail_before_any_request(
    start_emulator: Any, kwargs: dict[str, Any], message: str
) -> None:
    emulator = start_emulator(albums=5)
    operator = AddToLibraryOperator(task_id="add", **kwargs)
    with pytest.raises(AppleMusicConfigError, match=message):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0


def test_bad_rendered_ids_fail_before_any_request(start_emulator: Any) -> None:
    emulator = start_emulator(albums=5)
    operator = AddToLibraryOperator(task_id="add", ids="{{ params.ids }}")
    operator.ids = '{"albums": ["x1"]}'
    with pytest.raises(AppleMusicConfigError, match="malformed catalog id 'x1'"):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.stats.requests == 0
