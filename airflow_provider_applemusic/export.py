"""Pure pieces of the library export: date windows, serialisation, a streaming byte source."""

from __future__ import annotations

import datetime as dt
import io
import json
import zlib
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

FILE_FORMATS = ("jsonl", "json")
COMPRESSIONS = (None, "gzip")
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "json": "application/json"}


def parse_instant(value: Any, *, param: str) -> dt.datetime | None:
    """
    An aware UTC datetime from an ISO 8601 string, a date or a datetime; None stays None.

    Naive values and bare dates are taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise AppleMusicConfigError(
                f"{param} must be an ISO 8601 date or datetime such as '2024-03-05' or "
                f"'2024-03-05T00:00:00+00:00', got {value[:60]!r}"
            ) from None
    else:
        raise AppleMusicConfigError(
            f"{param} must be an ISO 8601 string or a datetime, got {type(value).__name__}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def date_added(album: dict[str, Any]) -> dt.datetime | None:
    """An album's ``dateAdded`` as an aware datetime, or None when missing or unreadable."""
    value = (album.get("attributes") or {}).get("dateAdded")
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value, param="dateAdded")
    except AppleMusicConfigError:
        return None


class AddedWindow:
    """
    The half-open window ``[after, before)`` on ``dateAdded``; albums without it are counted.

    :param after: the window's start (inclusive), or None.
    :param before: the window's end (exclusive), or None.
    """

    def __init__(self, after: dt.datetime | None, before: dt.datetime | None) -> None:
        if after is not None and before is not None and after >= before:
            hint = (
                " (Airflow 3's default cron schedule gives runs an empty data interval: use "
                "CronTriggerTimetable(..., interval=timedelta(days=1)) for daily windows)"
                if after == before
                else ""
            )
            raise AppleMusicConfigError(
                f"added_after must be earlier than added_before, got {after.isoformat()} >= "
                f"{before.isoformat()}{hint}"
            )
        self.after = after
        self.before = before
        self.skipped_without_date_added = 0

    @property
    def active(self) -> bool:
        return self.after is not None or self.before is not None

    def keeps(self, album: dict[str, Any]) -> bool:
        """True when ``album`` belongs in the export."""
        if not self.active:
            return True
        added = date_added(album)
        if added is None:
            self.skipped_without_date_added += 1
            return False
        if self.after is not None and added < self.after:
            return False
        return self.before is None or added < self.before


def encode_albums(albums: Iterable[list[dict[str, Any]]], file_format: str) -> Iterator[bytes]:
    """Serialise batches of albums: one JSON object per line, or one JSON array."""
    first = True
    if file_format == "json":
        yield b"["
    for batch in albums:
        if not batch:
            continue
        if file_format == "jsonl":
            yield "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in batch).encode("utf-8")
        else:
            text = ",".join(json.dumps(a, ensure_ascii=False) for a in batch)
            yield (text if first else "," + text).encode("utf-8")
        first = False
    if file_format == "json":
        yield b"]"


def gzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Gzip a byte stream reproducibly (header mtime 0)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


class IteratorReader(io.RawIOBase):
    """A read-only, non-seekable file object over an iterator of bytes; counts what it gave."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._buffer = b""
        self.bytes_read = 0
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target)
        try:
            while not self._buffer:
                self._buffer = next(self._chunks)
        except StopIteration:
            return 0
        except BaseException as err:
            self.error = err
            raise
        size = min(len(view), len(self._buffer))
        view[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        self.bytes_read += size
        return size
