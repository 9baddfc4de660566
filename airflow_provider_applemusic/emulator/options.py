"""
The emulator's options, written once: its constructor, command line and docs are made from them.

From :class:`EmulatorOptions` come ``AppleMusicEmulator``'s constructor (:data:`SIGNATURE`,
:meth:`EmulatorOptions.from_arguments`) and its read-write attributes of the same names, the
command line's flags (:func:`add_arguments`, :func:`from_namespace`) and the docs (the class
docstring's ``:param:`` list, :func:`param_docs`, and Markdown tables, :func:`options_markdown`).

Each field carries its default and type (the dataclass's own) and, as metadata (:func:`option`),
a one-paragraph description in reStructuredText, the group it is shown in, and what is checked
(``minimum``, ``choices``) or differs on the command line (``cli_default``).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

#: the groups options are shown in, in order: the docs' sections and the command line's
GROUPS = {
    "library": "What each user's library holds",
    "service": "How the service behaves: quirks, faults, the rate limit",
    "serving": "Where it serves",
}


def option(
    default: Any,
    doc: str,
    *,
    group: str,
    minimum: int | None = None,
    choices: tuple[Any, ...] | None = None,
    cli_default: Any = dataclasses.MISSING,
) -> Any:
    """
    A field of :class:`EmulatorOptions`.

    :param default: the constructor's default.
    :param doc: one paragraph, reStructuredText (roles name ``AppleMusicEmulator``'s members).
    :param group: one of :data:`GROUPS`.
    :param minimum: the value must be an integer (not a bool) of at least this.
    :param choices: the value must be one of these (on the command line too).
    :param cli_default: the command line's default, when it is not the constructor's.
    """
    assert group in GROUPS, group
    metadata = {
        "doc": " ".join(doc.split()),
        "group": group,
        "minimum": minimum,
        "choices": choices,
        "cli_default": default if cli_default is dataclasses.MISSING else cli_default,
    }
    return field(default=default, metadata=metadata)


@dataclass
class EmulatorOptions:
    """
    Every option of :class:`~airflow_provider_applemusic.emulator.server.AppleMusicEmulator`,
    checked when made. Fields in the order of the constructor's positional parameters.
    """

    albums: int = option(500, "library albums to generate.", group="library")
    seed: int = option(7, "seed of the generated library, catalog, key and tokens.", group="library")
    latency_ms: float = option(0, "added latency of every response.", group="service")
    rate_limit: float | None = option(
        None,
        """requests a second of a developer team above which it answers 429 without
        ``Retry-After``: one limit per Team ID (the token's ``iss``) across all its keys
        (:meth:`add_developer_key`), users and connections, like the service's limit per developer
        account; another team has a limit of its own (requests refused with 429 or 401 do not
        count). :attr:`EmulatorStats.throttled_by_team` counts the 429s by team.""",
        group="service",
    )
    fail_every: int = option(0, "every Nth request answers 500 with code 50001 (0: never).", group="service")
    drop_every: int = option(
        0, "every Nth request has its connection dropped without an answer (0: never).", group="service"
    )
    hidden_every: int = option(
        0,
        "every Nth item of each listing is hidden: pages come back short, ``next`` present.",
        group="service",
    )
    add_delay: float = option(3.0, "seconds before added items appear in the library.", group="service")
    change_every: int = option(
        0,
        """every Nth page served of a listing, one item is added to that listing's collection and
        one removed.""",
        group="service",
    )
    retry_after: float | None = option(
        None, "when set, 429s carry ``Retry-After`` with this many seconds.", group="service"
    )
    truncate_every: int = option(
        0,
        """every Nth library listing page past offset 0 answers 404, a transient truncation
        (0: never).""",
        group="service",
    )
    user_token_refusal: int = option(
        403,
        """the status (401 or 403) a revoked Music User Token gets on ``/v1/me/...``
        (:meth:`revoke_user_token`); the service has been seen to answer both.""",
        group="service",
        choices=(401, 403),
    )
    no_subscription: bool = option(
        False,
        """the account has no Apple Music subscription: library calls answer 403 "Insufficient
        Privileges" (code 40015).""",
        group="service",
    )
    host: str = option("127.0.0.1", "address to bind (loopback).", group="serving")
    port: int = option(0, "port to bind (0: any free port).", group="serving", cli_default=8765)
    songs: int = option(
        20, "library songs to generate (every 20th an upload, without catalog id).", group="library"
    )
    artists: int = option(10, "library artists to generate.", group="library")
    playlists: int = option(
        5, "library playlists to generate (every 4th made by the app: ``canEdit``).", group="library"
    )
    music_videos: int = option(5, "library music videos to generate.", group="library")
    playlist_tracks: int = option(
        8, "average tracks per playlist; every third playlist has none.", group="library"
    )
    history: int = option(
        30,
        """plays in the play history (``recent/played/tracks``), at most 50; drawn from the seed,
        about one in four a library song, about one in 12 a music video, no entry twice.
        :meth:`play` adds to it. As many recently played resources (``recent/played``), at most
        50.""",
        group="library",
    )
    heavy_rotation: int = option(
        12, "catalog albums and playlists in heavy rotation, at most 20.", group="library"
    )
    playlist_delay: float = option(
        2.0,
        "seconds before a playlist created through the API appears in the listings and by id.",
        group="service",
    )
    users: int = option(
        1,
        """users of the one developer key, each with its own Music User Token
        (:meth:`user_token_of`) and its own library of the sizes above (generated from
        :func:`~airflow_provider_applemusic.emulator.accounts.user_seed`). Requests act on the
        library of the user whose token they carry. User 0 is the emulator's :attr:`user_token`
        and library; the helpers act on user 0 unless given ``user``; :meth:`revoke_user_token`,
        :meth:`change_library` and the other helpers without ``user`` concern user 0 only. Faults
        (:meth:`inject`, ``fail_every``, ...) and the rate limit apply to every user's
        requests.""",
        group="library",
        minimum=1,
    )
    song_listings_missing: bool = option(
        False,
        """the account does not serve song listings, as reported for some accounts:
        ``GET /v1/me/library/songs`` and ``GET /v1/me/library/playlists/{id}/tracks`` answer 404
        (code 40400, the body of an empty collection) whatever the library holds, while
        ``GET /v1/me/library/playlists/{id}?include=tracks`` still carries the tracks.""",
        group="service",
    )
    relationship_limit: int = option(
        100,
        """the most tracks ``include=tracks`` puts inline in a playlist's
        ``relationships.tracks`` (default 100, as the service; 0: all of them, no ``next``).""",
        group="service",
        minimum=0,
    )
    playlist_repeats: bool = option(
        True,
        """generated playlists of 3 tracks or more hold some songs at several positions (about one
        entry in 15 repeats a song earlier in the playlist, from the seed), as users' playlists
        do.""",
        group="library",
    )
    recently_played_short_every: int = option(
        0,
        """every Nth page served of ``recent/played/tracks`` comes back 2 entries short while
        ``next`` is present (those entries are hidden for that page), as reported (0: never).""",
        group="service",
        minimum=0,
    )
    html_error_bodies: bool = option(
        False,
        """the ``fail_every`` 500s and the ``503`` and ``504`` faults come as HTML pages
        (``text/html``, about 2 KB, a correlation key) instead of JSON, as the service's gateways
        answer; the ``500_html`` and ``504_html`` faults always do.""",
        group="service",
    )
    songs_without_play_params_every: int = option(
        40,
        """every Nth generated library song that is not an upload has no ``playParams`` (removed
        from the service: no catalog id, no catalog song with ``include=catalog``; some also lack
        ``artistName`` or ``albumName``) (0: none).""",
        group="library",
        minimum=0,
    )
    withdrawn_every: int = option(
        30,
        """every Nth generated library album, song and music video with a catalog id points
        (``playParams.catalogId``, ``relationships.catalog``) at a catalog id the catalog no
        longer resolves (0: none).""",
        group="library",
        minimum=0,
    )

    stale_order_every: int = option(
        0,
        """every Nth read of ``recent/played/tracks`` (a page at offset 0, and the pages that follow
        it) shows the order shown before the last order a read showed, as consecutive reads of the
        service sometimes briefly do (0: never; 2 or more).""",
        group="service",
        minimum=0,
    )
    replay_missing: bool = option(
        False,
        """the user has no Replay year yet: ``GET /v1/me/music-summaries`` answers 404 (code
        40400) for ``filter[year]=latest``, as the service does before a year has enough
        listening.""",
        group="service",
    )

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value, choices, minimum = (
                getattr(self, spec.name),
                spec.metadata["choices"],
                spec.metadata["minimum"],
            )
            if choices is not None and value not in choices:
                raise ValueError(f"{spec.name} must be {' or '.join(map(str, choices))}, got {value!r}")
            if minimum is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < minimum
            ):
                least = "0 or more" if minimum == 0 else f"at least {minimum}"
                raise ValueError(f"{spec.name} must be an integer of {least}, got {value!r}")

    @classmethod
    def from_arguments(cls, options: EmulatorOptions | None, *args: Any, **kwargs: Any) -> EmulatorOptions:
        """
        The options a constructor call gives: ``options`` (a copy; None: the defaults) with the
        arguments passed as ``AppleMusicEmulator``'s parameters (:data:`SIGNATURE`), positional
        or keyword; a TypeError names an unknown or doubled one, as Python's own calls do.

        :param options: options to start from, or None: the defaults.
        """
        given = SIGNATURE.bind_partial(*args, **kwargs).arguments
        return dataclasses.replace(options or cls(), **given)


#: the constructor's parameters, in order, with their defaults and types
SIGNATURE = inspect.Signature(
    [
        inspect.Parameter(
            spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=spec.default, annotation=spec.type
        )
        for spec in dataclasses.fields(EmulatorOptions)
    ]
)


def _grouped() -> list[tuple[str, list[dataclasses.Field[Any]]]]:
    specs = dataclasses.fields(EmulatorOptions)
    return [(group, [s for s in specs if s.metadata["group"] == group]) for group in GROUPS]


# -- the command line ----------------------------------------------------------------------------


def flag(name: str) -> str:
    """The command line flag of an option: ``--playlist-delay``; ``--no-...`` for an option on by default."""
    spec = {s.name: s for s in dataclasses.fields(EmulatorOptions)}[name]
    dashed = name.replace("_", "-")
    return f"--no-{dashed}" if spec.default is True else f"--{dashed}"


def _plain(doc: str) -> str:
    """reStructuredText roles and literals as plain text (``%`` escaped, for argparse)."""
    text = re.sub(r":meth:`~?(?:[\w.]*\.)?(\w+)`", r"\1()", doc)
    text = re.sub(r":\w+:`~?(?:[\w.]*\.)?([\w.]+)`", r"\1", text)
    return text.replace("``", "").replace("%", "%%")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add a flag per option, grouped: ``--name`` (a value), ``--name`` (off by default) or ``--no-name``."""
    hints = typing.get_type_hints(EmulatorOptions)
    for group, specs in _grouped():
        section = parser.add_argument_group(GROUPS[group])
        for spec in specs:
            default = spec.metadata["cli_default"]
            if hints[spec.name] is bool:
                action = "store_false" if default else "store_true"
                help_text = ("turn off: " if default else "") + _plain(spec.metadata["doc"])
                section.add_argument(flag(spec.name), dest=spec.name, action=action, help=help_text)
                continue
            kind = next(
                t for t in typing.get_args(hints[spec.name]) or (hints[spec.name],) if t is not type(None)
            )
            section.add_argument(
                flag(spec.name),
                dest=spec.name,
                type=kind,
                default=default,
                choices=spec.metadata["choices"],
                help=f"{_plain(spec.metadata['doc'])} (default: {default})",
            )


def from_namespace(args: argparse.Namespace) -> dict[str, Any]:
    """The constructor's keyword arguments from parsed flags (:func:`add_arguments`)."""
    return {spec.name: getattr(args, spec.name) for spec in dataclasses.fields(EmulatorOptions)}


# -- the docs ------------------------------------------------------------------------------------


def param_docs(indent: str = "    ") -> str:
    """The ``:param name:`` list of every option, by group, wrapped as a docstring's lines."""
    lines = []
    for _group, specs in _grouped():
        for spec in specs:
            lines += textwrap.wrap(
                f":param {spec.name}: {spec.metadata['doc']}",
                width=100,
                initial_indent=indent,
                subsequent_indent=indent + "    ",
                break_on_hyphens=False,
            )
    return "\n".join(lines)


def options_markdown() -> str:
    """Every option as Markdown tables, one per group: argument, flag, type, default, description."""
    out = []
    for group, specs in _grouped():
        out += [
            f"**{GROUPS[group]}**",
            "",
            "| argument | flag | type | default | description |",
            "|---|---|---|---|---|",
        ]
        for spec in specs:
            doc = re.sub(r":meth:`~?(?:[\w.]*\.)?(\w+)`", r"`\1()`", spec.metadata["doc"])
            doc = (
                re.sub(r":\w+:`~?(?:[\w.]*\.)?([\w.]+)`", r"`\1`", doc).replace("``", "`").replace("|", "\\|")
            )
            default = spec.metadata["cli_default"]
            shown = f"`{spec.default!r}`" + (
                f" (command line: `{default!r}`)" if default != spec.default else ""
            )
            kind = str(spec.type).replace("|", "\\|")
            out.append(f"| `{spec.name}` | `{flag(spec.name)}` | `{kind}` | {shown} | {doc} |")
        out.append("")
    return "\n".join(out)


EmulatorOptions.__doc__ = f"{(EmulatorOptions.__doc__ or '').rstrip()}\n\n{param_docs()}\n    "
