"""Library playlists built safely: create once across retries, append each song once."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_applemusic.api.catalog import catalog_id_of, description_text
from airflow_provider_applemusic.api.codes import choose, normalize_codes
from airflow_provider_applemusic.api.ids import chunks, normalize_tracks, track_type
from airflow_provider_applemusic.api.validation import validate_seconds, validate_storefront
from airflow_provider_applemusic.exceptions import (
    AppleMusicConfigError,
    AppleMusicError,
    AppleMusicRequestError,
)
from airflow_provider_applemusic.operators.base import DEFAULT_CONN_ID, AppleMusicBaseOperator

_T = TypeVar("_T")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from airflow.sdk import Context

    #: one playlist entry: its library song id and the catalog id behind it (None: an upload)
    Entry = tuple[str, str | None]

IF_EXISTS = ("reuse", "create", "fail")
#: the task state store key of the playlist a task created (kept across its retries)
PLAYLIST_STATE_KEY = "applemusic.playlist_id"
#: songs per append request
APPEND_BATCH = 25
#: sends of one batch at most (each after reading the playlist back)
APPEND_ATTEMPTS = 4


def _marked(playlists: list[dict[str, Any]], marker: str) -> str | None:
    """The id of the playlist whose description carries ``marker``, if any."""
    for playlist in playlists:
        if marker in (description_text(playlist) or ""):
            return str(playlist["id"])
    return None


def _is_maybe_applied(err: AppleMusicError) -> bool:
    """A write that failed this way may have been carried out all the same."""
    return isinstance(err, AppleMusicRequestError) and (err.status is None or err.status >= 500)


def playlist_entries(tracks: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """
    A playlist's tracks as entries, in order, repeats kept: ``(library id, catalog id)``.

    :param tracks: the playlist's tracks as the service lists them.
    """
    return [(str(track.get("id")), catalog_id_of(track)) for track in tracks]


def holds(entry: Entry, song: str) -> bool:
    """
    Whether a playlist entry is ``song``: a library song id is the entry's own id, a catalog
    song id the catalog id behind it (the service adds a catalog song as a library song).

    :param entry: a playlist entry, ``(library id, catalog id)``.
    :param song: a library song id (``i.``) or a catalog song id.
    """
    return song == (entry[0] if track_type(song) == "library-songs" else entry[1])


def landed(tail: Sequence[Entry], sent: Sequence[str]) -> int | None:
    """
    How many of the songs ``sent`` (in order) the entries ``tail`` account for: ``tail`` is
    what the playlist holds past the length it had before they were sent. Each entry must be
    the next song sent, or a later one (the service skips ids it cannot add); the count runs to
    the song of the last entry. None: the entries are not the songs sent (the playlist was
    changed by someone else).

    :param tail: the entries past the playlist's length before the append.
    :param sent: the song ids sent, in order.
    """
    position = 0
    for entry in tail:
        while position < len(sent) and not holds(entry, sent[position]):
            position += 1
        if position == len(sent):
            return None
        position += 1
    return position


class _PlaylistOperator(AppleMusicBaseOperator):
    """What both playlist operators share: the hook, and songs by catalog id or ISRC."""

    def __init__(
        self,
        *,
        tracks: Any = (),
        isrcs: Any = (),
        apple_music_conn_id: str = DEFAULT_CONN_ID,
        storefront: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(apple_music_conn_id=apple_music_conn_id, **kwargs)
        self.tracks = tracks
        self.isrcs = isrcs
        self.storefront = storefront

    def songs(self) -> list[str]:
        """
        Song ids, each once: ``tracks`` (library and catalog song ids) then each ISRC's choice;
        unknown ISRCs fail, named.
        """
        isrcs = normalize_codes(self.isrcs, "isrcs")
        songs = normalize_tracks(self.tracks, param="tracks", unique=True) if self.tracks else []
        validate_storefront(self.storefront)
        if not isrcs:
            return songs
        found = self.hook.resolve_code_resources({"isrcs": isrcs}, storefront=self.storefront)["isrcs"]
        unknown = [code for code, items in found.items() if not items]
        if unknown:
            raise AppleMusicConfigError(
                f"isrcs holds codes the catalog does not know (nothing was written): {unknown}"
            )
        for code in isrcs:
            chosen = choose(found[code])
            if chosen is not None and chosen not in songs:
                songs.append(chosen)
        return songs

    def read_entries(self, playlist_id: str) -> list[Entry]:
        """The playlist's entries now, in order, repeats kept (read back from the service)."""
        return playlist_entries(self.hook.iter_library("library-playlist-tracks", parent_id=playlist_id))

    def append_missing(self, playlist_id: str, songs: list[str]) -> int:
        """
        Append the songs the playlist lacks (each once, in order), in batches; songs it holds
        already, at one position or several, are left alone. After a failure that may have been
        applied (5xx, timeout) the playlist is read back and compared by position: what it holds
        past its length before is what was sent, so only the songs not there yet are sent again.
        Returns how many were appended.
        """
        before = self.read_entries(playlist_id)
        library_ids = {entry[0] for entry in before}
        catalog_ids = {entry[1] for entry in before}
        missing = [
            song
            for song in dict.fromkeys(songs)
            if song not in (library_ids if track_type(song) == "library-songs" else catalog_ids)
        ]
        sent: list[str] = []
        for batch in chunks(missing, APPEND_BATCH):
            for attempt in range(1, APPEND_ATTEMPTS + 1):
                try:
                    self.hook.append_playlist_tracks(playlist_id, batch)
                    sent += batch
                    break
                except AppleMusicError as err:
                    if not _is_maybe_applied(err) or attempt == APPEND_ATTEMPTS:
                        raise
                    self.log.warning(
                        "Appending %d songs failed (%s): reading the playlist back", len(batch), err
                    )
                    time.sleep(min(8.0, 0.5 * 2**attempt))
                    done = self._landed(playlist_id, before, [*sent, *batch]) - len(sent)
                    sent += batch[: max(0, done)]
                    batch = batch[max(0, done) :]
                    if not batch:
                        break
        return len(missing)

    def _landed(self, playlist_id: str, before: list[Entry], sent: list[str]) -> int:
        """How many of ``sent`` the playlist holds past its entries ``before``, read back now."""
        after = self.read_entries(playlist_id)
        count = landed(after[len(before) :], sent) if after[: len(before)] == before else None
        if count is None:
            raise AppleMusicError(
                f"playlist {playlist_id} was changed by someone else while songs were appended to it "
                f"(it held {len(before)} tracks, now {len(after)}, and not as sent): nothing more "
                "was sent; check it in Apple Music, then run the task again to append what it lacks"
            )
        return count


class CreateLibraryPlaylistOperator(_PlaylistOperator):
    """
    Create a library playlist and add songs to it, never twice.

    A retried task reuses the playlist it created (its id is kept in Airflow's task state store).
    The description carries a marker with the run id, so a create that answered 5xx but was
    carried out is recognised once it appears (the service shows new playlists after a delay,
    waited out for up to ``appearance_timeout`` seconds) instead of creating a second one. With
    ``if_exists="reuse"`` a playlist of the same name that the app created earlier is reused, so
    re-running a DAG changes nothing. Songs already in the playlist are not appended again.

    :param name: the playlist's name. (templated)
    :param description: its description; the run marker is appended. (templated)
    :param tracks: song ids, in order: library song ids (``i.…``) and catalog song ids
        (digits), mixed; a song given twice is added once. (templated)
    :param isrcs: ISRCs of songs, resolved like ``AddToLibraryOperator`` does. (templated)
    :param if_exists: ``reuse`` (default): reuse an app-created playlist of the same name;
        ``create``: create a new one anyway; ``fail``: fail when one exists.
    :param appearance_timeout: seconds to wait for a playlist whose create may have been applied.
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param storefront: storefront for the ISRC look-ups. (templated)
    :return: ``{"playlist_id", "created", "appended"}``.
    """

    template_fields: Sequence[str] = (
        "name",
        "description",
        "tracks",
        "isrcs",
        "apple_music_conn_id",
        "storefront",
    )

    def __init__(
        self,
        *,
        name: str,
        description: str | None = None,
        if_exists: str = "reuse",
        appearance_timeout: float = 300.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in IF_EXISTS:
            raise AppleMusicConfigError(f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}")
        self.name = name
        self.description = description
        self.if_exists = if_exists
        self.appearance_timeout = validate_seconds(appearance_timeout, param="appearance_timeout")

    def execute(self, context: Context) -> dict[str, Any]:
        """
        Create the playlist (or reuse it) and append what it lacks.

        :param context: the task's context.
        """
        if not isinstance(self.name, str) or not self.name.strip():
            raise AppleMusicConfigError(f"name must be a non-empty string, got {self.name!r}")
        songs = self.songs()
        self.hook.validate()
        state = context.get("task_state_store")
        run_id = str(context.get("run_id") or "manual")
        marker = f"[airflow run {run_id}]"
        playlist_id = state.get(PLAYLIST_STATE_KEY) if state is not None else None
        created = False
        if playlist_id:
            self.log.info("Reusing playlist %s, created by an earlier try of this task", playlist_id)
        else:
            playlist_id = self._existing(marker)
            if playlist_id is None:
                playlist_id = self._create(marker, songs)
                created = True
            if state is not None:
                state.set(PLAYLIST_STATE_KEY, playlist_id)
        self._wait_until_visible(str(playlist_id))
        appended = self.append_missing(str(playlist_id), songs)
        return {"playlist_id": playlist_id, "created": created, "appended": appended}

    def _app_playlists(self) -> list[dict[str, Any]]:
        return [
            p
            for p in self.hook.iter_library("library-playlists")
            if (p.get("attributes") or {}).get("canEdit") is True
        ]

    def _existing(self, marker: str) -> str | None:
        """An app-created playlist of this run (by marker), or of the same name when reusing."""
        playlists = self._app_playlists()
        marked = _marked(playlists, marker)
        if marked is not None:
            self.log.info("Playlist %s carries this run's marker: reusing it", marked)
            return marked
        same_name = [p for p in playlists if (p.get("attributes") or {}).get("name") == self.name]
        if same_name and self.if_exists == "fail":
            raise AppleMusicConfigError(
                f"a playlist named {self.name!r} already exists ({same_name[0]['id']}) and if_exists='fail'"
            )
        if same_name and self.if_exists == "reuse":
            self.log.info("Reusing playlist %s named %r", same_name[0]["id"], self.name)
            return str(same_name[0]["id"])
        return None

    def _create(self, marker: str, songs: list[str]) -> str:
        description = f"{self.description}\n{marker}" if self.description else marker
        try:
            return str(
                self.hook.create_library_playlist(self.name, description=description, tracks=songs)["id"]
            )
        except AppleMusicError as err:
            if not _is_maybe_applied(err):
                raise
            self.log.warning(
                "Creating the playlist failed (%s): it may exist all the same; looking for it", err
            )
        found = self._wait_for_marker(marker)
        if found is not None:
            return found
        self.log.warning("No playlist with marker %s appeared: creating it again", marker)
        return str(self.hook.create_library_playlist(self.name, description=description, tracks=songs)["id"])

    def _poll(self, probe: Callable[[], _T | None]) -> _T | None:
        """``probe()`` until it gives something or ``appearance_timeout`` has passed."""
        deadline = time.monotonic() + self.appearance_timeout
        while True:
            found = probe()
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(min(5.0, max(0.2, self.appearance_timeout / 20)))

    def _wait_for_marker(self, marker: str) -> str | None:
        return self._poll(lambda: _marked(self._app_playlists(), marker))

    def _wait_until_visible(self, playlist_id: str) -> None:
        if self._poll(lambda: self.hook.get_library_playlist(playlist_id)) is None:
            raise AppleMusicError(
                f"playlist {playlist_id} did not appear in the library within "
                f"{self.appearance_timeout:g} s (appearance_timeout)"
            )


class AddTracksToPlaylistOperator(_PlaylistOperator):
    """
    Append songs to a library playlist the app created, each song once.

    The playlist's tracks are read first; only songs it lacks (a library song by its id, a
    catalog song by the catalog id behind its entries) are appended, in batches; songs it holds
    already, once or repeated, are left alone. After a failure that may have been applied (5xx,
    timeout) the playlist is read back and compared by position with what it held before, so
    each requested song is appended exactly once. A playlist the app cannot edit (``canEdit``
    false) is refused before any write.

    :param playlist_id: the library playlist's id (``p.…``). (templated)
    :param tracks: song ids, in order: library song ids (``i.…``) and catalog song ids
        (digits), mixed; a song given twice is appended once. (templated)
    :param isrcs: ISRCs of songs. (templated)
    :param apple_music_conn_id: the ``apple_music`` connection. (templated)
    :param storefront: storefront for the ISRC look-ups. (templated)
    :return: ``{"playlist_id", "appended"}``.
    """

    template_fields: Sequence[str] = ("playlist_id", "tracks", "isrcs", "apple_music_conn_id", "storefront")

    def __init__(self, *, playlist_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.playlist_id = playlist_id

    def execute(self, context: Context) -> dict[str, Any]:
        """
        Append the songs the playlist lacks, reading it back after an uncertain failure.

        :param context: the task's context.
        """
        songs = self.songs()
        self.hook.validate()
        playlist = self.hook.get_library_playlist(str(self.playlist_id))
        if playlist is None:
            raise AppleMusicConfigError(f"playlist_id {self.playlist_id!r} is not in the library")
        if (playlist.get("attributes") or {}).get("canEdit") is not True:
            raise AppleMusicConfigError(
                f"playlist {self.playlist_id!r} cannot be changed by this app (canEdit is false): "
                "Apple lets an app change only the playlists it created; nothing was written"
            )
        appended = self.append_missing(str(self.playlist_id), songs)
        return {"playlist_id": self.playlist_id, "appended": appended}
