"""What the emulator saw (:class:`EmulatorStats`), read by tests and benchmarks."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field


@dataclass
class EmulatorStats:
    """
    What the emulator saw; read it from tests and benchmarks.

    :ivar requests: requests answered or dropped.
    :ivar statuses: answers by HTTP status.
    :ivar in_flight: requests being answered now.
    :ivar max_in_flight: the most requests in flight at once.
    :ivar page_sizes: listing requests by their ``limit``.
    :ivar paths: requests by path.
    :ivar dropped: connections dropped without an answer.
    :ivar posts: ``POST`` requests.
    :ivar last_response_at: ``time.monotonic()`` when the last request counted was answered.
    """

    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    page_sizes: collections.Counter[int] = field(default_factory=collections.Counter)
    paths: collections.Counter[str] = field(default_factory=collections.Counter)
    #: the path of every request counted, in the order they arrived
    arrivals: list[str] = field(default_factory=list)
    dropped: int = 0
    posts: int = 0
    #: one entry per library listing page asked for (histories included): its offset and its
    #: ``extend`` (None: absent)
    library_pages: list[tuple[int, str | None]] = field(default_factory=list)
    #: library listing requests by path (``/v1/me/library/songs``, a playlist's tracks, ...)
    listing_paths: collections.Counter[str] = field(default_factory=collections.Counter)
    #: playlist writes carried out (answered 2xx or by ``500_applied``): ``create`` and
    #: ``append``
    playlist_writes: collections.Counter[str] = field(default_factory=collections.Counter)
    #: requests by the user whose Music User Token they carried (0 too for none or an unknown one)
    users: collections.Counter[int] = field(default_factory=collections.Counter)
    #: requests answered 429 (the rate limit or an injected ``429``), by developer Team ID
    throttled_by_team: collections.Counter[str] = field(default_factory=collections.Counter)
    #: ``time.monotonic()`` when the first request counted arrived and when the last one was answered
    first_request_at: float | None = None
    last_response_at: float | None = None

    def accepted_rate(self) -> float:
        """Requests a second not answered 429, from the first request to the last answer."""
        if self.first_request_at is None or self.last_response_at is None:
            return 0.0
        elapsed = self.last_response_at - self.first_request_at
        accepted = sum(self.statuses.values()) - self.statuses[429]
        return accepted / elapsed if elapsed > 0 else 0.0
