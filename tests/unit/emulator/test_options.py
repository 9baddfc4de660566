"""The emulator's options are written once: constructor, attributes, command line and docs come from them."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from airflow_provider_applemusic.emulator import AppleMusicEmulator, EmulatorOptions
from airflow_provider_applemusic.emulator.__main__ import build_parser
from airflow_provider_applemusic.emulator.options import flag, options_markdown

NAMES = [spec.name for spec in dataclasses.fields(EmulatorOptions)]


def test_the_constructor_takes_exactly_the_options_with_their_defaults() -> None:
    parameters = inspect.signature(AppleMusicEmulator).parameters
    assert list(parameters)[:-1] == NAMES and list(parameters)[-1] == "options"
    defaults = EmulatorOptions()
    assert {name: parameters[name].default for name in NAMES} == dataclasses.asdict(defaults)
    assert (defaults.albums, defaults.seed, defaults.port, defaults.relationship_limit) == (500, 7, 0, 100)


def test_options_come_as_keywords_positions_or_an_options_object() -> None:
    by_keyword = AppleMusicEmulator(albums=3, seed=9)
    by_position = AppleMusicEmulator(3, 9)
    by_object = AppleMusicEmulator(options=EmulatorOptions(albums=3, seed=9))
    overridden = AppleMusicEmulator(options=EmulatorOptions(albums=3, seed=1), seed=9)
    assert by_keyword.options == by_position.options == by_object.options == overridden.options
    assert by_keyword.library() == by_object.library()
    with pytest.raises(TypeError, match="unexpected keyword argument 'album'"):
        AppleMusicEmulator(album=3)
    with pytest.raises(TypeError, match="multiple values"):
        AppleMusicEmulator(3, albums=3)


def test_the_options_object_given_is_copied() -> None:
    given = EmulatorOptions(albums=3)
    emulator = AppleMusicEmulator(options=given)
    emulator.latency_ms = 25
    assert (emulator.latency_ms, emulator.options.latency_ms, given.latency_ms) == (25, 25, 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"user_token_refusal": 500}, "user_token_refusal must be 401 or 403, got 500"),
        ({"users": True}, "users must be an integer of at least 1, got True"),
        ({"relationship_limit": 1.5}, "relationship_limit must be an integer of 0 or more, got 1.5"),
        ({"recently_played_short_every": -1}, "recently_played_short_every must be an integer of 0 or more"),
    ],
)
def test_options_are_checked_when_made(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AppleMusicEmulator(**options)
    with pytest.raises(ValueError, match=message):
        EmulatorOptions(**options)


def test_members_named_like_an_option_stay_members() -> None:
    emulator = AppleMusicEmulator(albums=3, users=2, playlist_tracks=4)
    assert emulator.users == 2 and callable(emulator.playlist_tracks)
    assert emulator.options.playlist_tracks == 4


def test_every_option_is_a_flag_with_the_constructors_default_but_the_port() -> None:
    parser = build_parser()
    defaults = vars(parser.parse_args([]))
    assert {name: defaults[name] for name in NAMES} == {
        **dataclasses.asdict(EmulatorOptions()),
        "port": 8765,
    }
    assert (
        flag("playlist_repeats") == "--no-playlist-repeats" and flag("no_subscription") == "--no-subscription"
    )
    assert parser.parse_args(["--no-playlist-repeats", "--rate-limit", "2.5"]).playlist_repeats is False
    help_text = parser.format_help()
    assert all(flag(name) in help_text for name in NAMES)


def test_the_docs_name_every_option() -> None:
    doc = inspect.getdoc(AppleMusicEmulator) or ""
    assert all(f":param {name}:" in doc for name in NAMES)
    table = options_markdown()
    assert all(f"| `{name}` | `{flag(name)}` |" in table for name in NAMES)
    assert "| `port` | `--port` | `int` | `0` (command line: `8765`) |" in table
