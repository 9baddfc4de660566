"""The ids a listing has yielded so far, held compactly (a library of 200,000 songs in ~4 MiB)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: buckets a set starts with (a power of two)
FIRST_BUCKETS = 256
#: ids per bucket, on average, above which the buckets are multiplied by four
BUCKET_LOAD = 64
_SEP = b"\0"


class SeenIds:
    """
    A set of ids (strings), exact, in about a fifth of the memory of a Python ``set``: each id
    is kept once as UTF-8 in one of a few thousand byte arrays (chosen by its hash), between NUL
    bytes, and looked up as a substring there. An id holding a NUL (or one that is not a
    string) is kept in a plain set.

    :param ids: the ids it starts with.
    """

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._buckets = [bytearray(_SEP) for _ in range(FIRST_BUCKETS)]
        self._odd: set[object] = set()
        self._size = 0
        self.update(ids)

    def __len__(self) -> int:
        return self._size + len(self._odd)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or "\0" in key:
            return key in self._odd
        return _SEP + key.encode("utf-8") + _SEP in self._bucket(key)

    def add(self, key: str) -> bool:
        """
        Add ``key``; whether it was new.

        :param key: the id.
        """
        if not isinstance(key, str) or "\0" in key:
            if key in self._odd:
                return False
            self._odd.add(key)
            return True
        raw = key.encode("utf-8") + _SEP
        bucket = self._buckets[hash(key) & (len(self._buckets) - 1)]
        if _SEP + raw in bucket:
            return False
        bucket += raw
        self._size += 1
        if self._size > BUCKET_LOAD * len(self._buckets):
            self._grow()
        return True

    def update(self, keys: Iterable[str]) -> None:
        """
        Add each of ``keys``.

        :param keys: the ids.
        """
        for key in keys:
            self.add(key)

    def _bucket(self, key: str) -> bytearray:
        return self._buckets[hash(key) & (len(self._buckets) - 1)]

    def _grow(self) -> None:
        old, self._buckets = self._buckets, [bytearray(_SEP) for _ in range(len(self._buckets) * 4)]
        while old:
            for raw in old.pop()[1:].split(_SEP)[:-1]:  # each id ends with a NUL
                bucket = self._bucket(raw.decode("utf-8"))
                bucket += raw
                bucket += _SEP
