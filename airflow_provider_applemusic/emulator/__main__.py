"""
Command line: ``python -m airflow_provider_applemusic.emulator --port 8765 --albums 500`` serves;
``python -m airflow_provider_applemusic.emulator apply-changes --url URL --add 2 --remove 1``
changes the library of a running emulator as a user would.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from airflow_provider_applemusic.emulator.server import CONTROL_CHANGES_PATH, AppleMusicEmulator


def build_parser() -> argparse.ArgumentParser:
    """The emulator's flags; they mirror :class:`AppleMusicEmulator`'s arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_applemusic.emulator",
        description="Serve an emulated Apple Music API on loopback until stopped.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--albums", type=int, default=500, help="library albums to generate")
    parser.add_argument("--songs", type=int, default=20, help="library songs to generate (5%% uploads)")
    parser.add_argument("--artists", type=int, default=10, help="library artists to generate")
    parser.add_argument("--playlists", type=int, default=5, help="library playlists to generate")
    parser.add_argument("--music-videos", type=int, default=5, help="library music videos to generate")
    parser.add_argument(
        "--playlist-tracks", type=int, default=8, help="average tracks a playlist (every third: none)"
    )
    parser.add_argument("--history", type=int, default=30, help="songs recently played (at most 50)")
    parser.add_argument(
        "--heavy-rotation", type=int, default=12, help="albums and playlists in heavy rotation (at most 20)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    parser.add_argument("--latency-ms", type=float, default=0, help="added latency")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests/s before 429s")
    parser.add_argument("--fail-every", type=int, default=0, help="every Nth request a 500")
    parser.add_argument("--drop-every", type=int, default=0, help="every Nth connection dropped")
    parser.add_argument("--hidden-every", type=int, default=0, help="every Nth item of each listing hidden")
    parser.add_argument("--add-delay", type=float, default=3.0, help="seconds before adds appear")
    parser.add_argument(
        "--playlist-delay", type=float, default=2.0, help="seconds before a created playlist appears"
    )
    parser.add_argument("--change-every", type=int, default=0, help="a listing changes every N of its pages")
    parser.add_argument("--retry-after", type=float, default=None, help="Retry-After on 429s")
    parser.add_argument(
        "--truncate-every", type=int, default=0, help="every Nth listing page past offset 0 a 404"
    )
    parser.add_argument(
        "--user-token-refusal",
        type=int,
        choices=(401, 403),
        default=403,
        help="status for a revoked Music User Token",
    )
    parser.add_argument(
        "--no-subscription", action="store_true", help="library calls answer Insufficient Privileges"
    )
    parser.add_argument(
        "--song-listings-missing",
        action="store_true",
        help="library songs and playlist tracks listings answer 404; include=tracks still works",
    )
    parser.add_argument(
        "--relationship-limit",
        type=int,
        default=100,
        help="tracks a playlist's include=tracks holds at most, then next (0: all)",
    )
    parser.add_argument(
        "--no-playlist-repeats",
        dest="playlist_repeats",
        action="store_false",
        help="generated playlists hold each song once (default: about 1 entry in 15 a repeat)",
    )
    parser.add_argument(
        "--recently-played-short-every",
        type=int,
        default=0,
        help="every Nth recent/played/tracks page comes back 2 entries short, next present (0: never)",
    )
    parser.add_argument(
        "--html-error-bodies",
        action="store_true",
        help="fail-every 500s and the 503/504 faults answer with HTML pages, not JSON",
    )
    parser.add_argument(
        "--songs-without-play-params-every",
        type=int,
        default=40,
        help="every Nth generated library song (not an upload) has no playParams (0: none)",
    )
    parser.add_argument(
        "--withdrawn-every",
        type=int,
        default=30,
        help="every Nth generated library album/song/video points at a withdrawn catalog id (0: none)",
    )
    parser.add_argument(
        "--users", type=int, default=1, help="users of the one developer key, each with own token and library"
    )
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


def apply_changes(argv: list[str]) -> int:
    """Send ``POST /emulator/changes`` to a running emulator and print its answer."""
    import urllib.error
    import urllib.request

    args = build_changes_parser().parse_args(argv)
    payload = {
        "resource": args.resource,
        "user": args.user,
        "add": args.add_ids.split(",") if args.add_ids else args.add,
        "remove": args.remove_ids.split(",") if args.remove_ids else args.remove,
    }
    request = urllib.request.Request(
        args.url.rstrip("/") + CONTROL_CHANGES_PATH,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as err:
        print(f"apply-changes failed: {err.code} {err.read().decode()}", file=sys.stderr)
        return 1
    return 0


def user_connections(emulator: AppleMusicEmulator, prefix: str = "apple_music_user_") -> dict[str, Any]:
    """Every user's ``apple_music`` connection by conn id (``prefix`` and the user's number)."""
    return {f"{prefix}{user}": emulator.connection_dict(user) for user in range(emulator.users)}


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print the connection line, serve until SIGINT or SIGTERM."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["apply-changes"]:
        return apply_changes(argv[1:])
    args = build_parser().parse_args(argv)
    emulator = AppleMusicEmulator(
        albums=args.albums,
        songs=args.songs,
        artists=args.artists,
        playlists=args.playlists,
        music_videos=args.music_videos,
        playlist_tracks=args.playlist_tracks,
        history=args.history,
        heavy_rotation=args.heavy_rotation,
        seed=args.seed,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        fail_every=args.fail_every,
        drop_every=args.drop_every,
        hidden_every=args.hidden_every,
        add_delay=args.add_delay,
        playlist_delay=args.playlist_delay,
        change_every=args.change_every,
        retry_after=args.retry_after,
        truncate_every=args.truncate_every,
        user_token_refusal=args.user_token_refusal,
        no_subscription=args.no_subscription,
        host=args.host,
        port=args.port,
        users=args.users,
        song_listings_missing=args.song_listings_missing,
        relationship_limit=args.relationship_limit,
        playlist_repeats=args.playlist_repeats,
        recently_played_short_every=args.recently_played_short_every,
        html_error_bodies=args.html_error_bodies,
        songs_without_play_params_every=args.songs_without_play_params_every,
        withdrawn_every=args.withdrawn_every,
    )
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
