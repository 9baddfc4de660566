"""
The emulator's command line: serve (flags from the options), or change a running emulator's library.

``python -m airflow_provider_applemusic.emulator --port 8765 --albums 500`` serves;
``python -m airflow_provider_applemusic.emulator apply-changes --url URL --add 2 --remove 1``
changes the library of a running emulator as a user would;
``python -m airflow_provider_applemusic.emulator privacy-export --out DIR --rows 100000`` writes
a privacy export (the lifetime history Apple sends on request) and prints its ground truth.
``python -m airflow_provider_applemusic.emulator play --url URL --session 12`` (or ``--id ID``)
plays songs on it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from airflow_provider_applemusic.emulator.control import CONTROL_CHANGES_PATH, CONTROL_PLAY_PATH
from airflow_provider_applemusic.emulator.options import add_arguments, from_namespace
from airflow_provider_applemusic.emulator.server import AppleMusicEmulator


def build_parser() -> argparse.ArgumentParser:
    """The emulator's flags: one per :class:`EmulatorOptions` field (generated), then what to do."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_applemusic.emulator",
        description="Serve an emulated Apple Music API on loopback until stopped.",
    )
    add_arguments(parser)
    parser.add_argument("--ready-file", default=None, help="write the connection JSON here once serving")
    parser.add_argument(
        "--connections-file",
        default=None,
        help="write every user's connection here once serving: JSON {conn_id: connection}, "
        "conn ids apple_music_user_0, apple_music_user_1, ...",
    )
    parser.add_argument(
        "--list-catalog-ids",
        action="store_true",
        help="print the catalog ids not yet in the library (type, tab, id; one a line) and exit",
    )
    return parser


#: catalog ids not yet in the library printed with the connection line, per type
SHOWN_CATALOG_IDS = 3


def not_in_library(emulator: AppleMusicEmulator) -> dict[str, list[str]]:
    """
    Catalog ids the emulator knows that are not in its library yet, by type: ids to add.

    :param emulator: the emulator (it need not be serving).
    """
    return {kind: emulator.catalog_ids(kind) for kind in ("albums", "songs", "playlists", "music-videos")}


def build_changes_parser() -> argparse.ArgumentParser:
    """Flags of ``apply-changes``: :meth:`AppleMusicEmulator.apply_changes` over HTTP."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_applemusic.emulator apply-changes",
        description="Add and remove library items of a running emulator; prints the ids as JSON.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="the running emulator")
    parser.add_argument("--resource", default="library-albums", help="the library listing to change")
    parser.add_argument("--user", type=int, default=0, help="whose library (an emulator of --users N)")
    parser.add_argument("--add", type=int, default=0, help="fresh items to add")
    parser.add_argument("--remove", type=int, default=0, help="visible items to remove")
    parser.add_argument("--add-ids", default=None, help="comma-separated catalog ids to add instead")
    parser.add_argument("--remove-ids", default=None, help="comma-separated library ids to remove instead")
    return parser


def _post(url: str, path: str, payload: dict[str, Any], command: str) -> int:
    """POST ``payload`` to a running emulator's control ``path``; print the answer."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as err:
        print(f"{command} failed: {err.code} {err.read().decode()}", file=sys.stderr)
        return 1
    return 0


def build_export_parser() -> argparse.ArgumentParser:
    """Flags of ``privacy-export``: :func:`~.privacy_export.write_privacy_export`."""
    from airflow_provider_applemusic.emulator.privacy_export import CONTAINERS, VARIANTS

    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_applemusic.emulator privacy-export",
        description="Write a realistic Apple privacy export (play activity, daily tracks); print its truth.",
    )
    parser.add_argument("--out", required=True, help="an existing folder to write it in")
    parser.add_argument("--rows", type=int, default=2_000, help="play-activity rows")
    parser.add_argument("--variant", choices=VARIANTS, default="2023", help="the header variant")
    parser.add_argument("--container", choices=CONTAINERS, default="nested", help="how it is delivered")
    parser.add_argument("--seed", type=int, default=7, help="the seed of everything drawn")
    parser.add_argument("--malformed", type=int, default=0, help="cut rows among the others")
    parser.add_argument("--truth-file", default=None, help="write the plays of the ground truth here (JSON)")
    return parser


def privacy_export(argv: list[str]) -> int:
    """Write a privacy export and print its ground truth (counts) as JSON."""
    from airflow_provider_applemusic.emulator.privacy_export import truth_summary, write_privacy_export

    args = build_export_parser().parse_args(argv)
    export = write_privacy_export(
        args.out,
        rows=args.rows,
        variant=args.variant,
        container=args.container,
        seed=args.seed,
        malformed=args.malformed,
        keep_truth=args.truth_file is not None,
    )
    if args.truth_file:
        with open(args.truth_file, "w", encoding="utf-8") as handle:
            json.dump(export.truth.plays, handle, ensure_ascii=False)
    print(json.dumps(truth_summary(export), ensure_ascii=False))
    return 0


def apply_changes(argv: list[str]) -> int:
    """Send ``POST /emulator/changes`` to a running emulator and print its answer."""
    args = build_changes_parser().parse_args(argv)
    payload = {
        "resource": args.resource,
        "user": args.user,
        "add": args.add_ids.split(",") if args.add_ids else args.add,
        "remove": args.remove_ids.split(",") if args.remove_ids else args.remove,
    }
    return _post(args.url, CONTROL_CHANGES_PATH, payload, "apply-changes")


def build_play_parser() -> argparse.ArgumentParser:
    """Flags of ``play``: :meth:`AppleMusicEmulator.play` or ``listening_session`` over HTTP."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_applemusic.emulator play",
        description="Play songs on a running emulator; prints the plays (with their times) as JSON.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="the running emulator")
    parser.add_argument("--user", type=int, default=0, help="whose history (an emulator of --users N)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--id", default=None, help="one song: a catalog song or music video id, or i.…")
    what.add_argument("--session", type=int, default=None, help="a listening session of this many plays")
    parser.add_argument("--at", default=None, help="when (ISO 8601; default now)")
    parser.add_argument("--seed", type=int, default=None, help="draws the session's plays")
    return parser


def play(argv: list[str]) -> int:
    """Send ``POST /emulator/play`` to a running emulator and print its answer."""
    args = build_play_parser().parse_args(argv)
    payload: dict[str, Any] = {"user": args.user, "at": args.at}
    if args.id is not None:
        payload["id"] = args.id
    else:
        payload.update(session=args.session, seed=args.seed)
    return _post(args.url, CONTROL_PLAY_PATH, payload, "play")


def user_connections(emulator: AppleMusicEmulator, prefix: str = "apple_music_user_") -> dict[str, Any]:
    """Every user's ``apple_music`` connection by conn id (``prefix`` and the user's number)."""
    return {f"{prefix}{user}": emulator.connection_dict(user) for user in range(emulator.users)}


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print the connection line, serve until SIGINT or SIGTERM."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["apply-changes"]:
        return apply_changes(argv[1:])
    if argv[:1] == ["privacy-export"]:
        return privacy_export(argv[1:])
    if argv[:1] == ["play"]:
        return play(argv[1:])
    args = build_parser().parse_args(argv)
    emulator = AppleMusicEmulator(**from_namespace(args))
    if args.list_catalog_ids:
        for kind, ids in not_in_library(emulator).items():
            for catalog_id in ids:
                print(f"{kind}\t{catalog_id}")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with emulator:
        if args.ready_file:
            with open(args.ready_file, "w", encoding="utf-8") as handle:
                handle.write(emulator.connection_json())
        if args.connections_file:
            with open(args.connections_file, "w", encoding="utf-8") as handle:
                json.dump(user_connections(emulator), handle)
        print(f"Apple Music emulator serving on {emulator.url}", flush=True)
        print(f"AIRFLOW_CONN_APPLE_MUSIC_DEFAULT='{emulator.connection_json()}'", flush=True)
        addable = {kind: ids[:SHOWN_CATALOG_IDS] for kind, ids in not_in_library(emulator).items()}
        print(
            "Catalog ids not in the library yet (all of them: --list-catalog-ids): "
            + "; ".join(f"{kind} {', '.join(ids)}" for kind, ids in addable.items()),
            flush=True,
        )
        example = json.dumps({"ids": {"albums": addable["albums"][:1]}})
        print(f"Try: airflow dags trigger applemusic_add_and_wait --conf '{example}'", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
