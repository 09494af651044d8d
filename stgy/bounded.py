"""Bounded in-process maps: at most so many entries and so many bytes, least recently
used out first.

Whatever a server process remembers of what others send it (keys, fetch times, token
buckets) is kept in one of these, so no input can make it grow past its bound. The
size of an entry is the caller's estimate (`size_of`): its strings' lengths plus a
fixed allowance for the objects around them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMap(Generic[K, V]):
    """A map of at most `max_entries` entries and `max_bytes` bytes (as `size_of` counts
    them). Reading an entry makes it the most recently used; past either bound the least
    recently used entries are dropped. An entry larger than `max_bytes` alone is not kept."""

    def __init__(self, max_entries: int, max_bytes: int, size_of: Callable[[K, V], int]) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._size_of = size_of
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V) -> None:
        self.pop(key)
        size = self._size_of(key, value)
        if size > self.max_bytes or self.max_entries <= 0:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def pop(self, key: K) -> V | None:
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self.bytes -= found[1]
        return found[0]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0
