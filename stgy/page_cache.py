"""The renderings of posts and accounts that a process keeps in memory for timeline pages.

A page's statement returns, for each post, the versions of the post and its author
(stgy/domain/renderings.py); a cached rendering is used only while its versions are
those, so an entry can never show something stale and no process has to tell another
that something changed: a post's version is (coalesce(edited_at, created_at),
render_rev), an account's is updated_at (both times as microseconds since 1970, as
storage.renderings.micros gives them), and both carry the serializer's format.

The cache is bounded by the bytes of its renderings and by its number of entries. When it
grows past either bound, the oldest entries are dropped (first in, first out, down to
three quarters): a rendering that is still read is put back by the next page that misses
it.
"""

from __future__ import annotations

import sys

# A post's entry: version, render_rev, format, body; an account's: version, 0, format, body.
Entry = tuple[int, int, int, bytes]

# What an entry costs beyond its body: its tuple, key and dict slot.
_OVERHEAD = 200
# Entries at most (the bytes bound alone would allow max_bytes / _OVERHEAD).
MAX_ENTRIES = 100_000


class RenderingCache:
    """Renderings by post id and by account id (the accounts' keys are negated ids)."""

    def __init__(self, max_bytes: int, max_entries: int = MAX_ENTRIES) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.bytes = 0
        self.entries: dict[int, Entry] = {}
        # The first format asked for is kept here; each other one (another face's
        # renderings, e.g. Mastodon statuses) in a cache of its own with the same bounds.
        self.main_format: int | None = None
        self.others: dict[int, RenderingCache] = {}

    def for_format(self, format: int) -> RenderingCache:
        """The cache that keeps renderings of this format."""
        if self.main_format is None:
            self.main_format = format
        if format == self.main_format:
            return self
        other = self.others.get(format)
        if other is None:
            other = self.others[format] = RenderingCache(self.max_bytes, self.max_entries)
        return other

    def __len__(self) -> int:
        return len(self.entries)

    def post(self, post_id: int, version: int, rev: int, format: int) -> bytes | None:
        entry = self.entries.get(post_id)
        if entry is None or entry[0] != version or entry[1] != rev or entry[2] != format:
            return None
        return entry[3]

    def account(self, account_id: int, version: int, format: int) -> bytes | None:
        entry = self.entries.get(-account_id)
        if entry is None or entry[0] != version or entry[2] != format:
            return None
        return entry[3]

    def put_post(self, post_id: int, version: int, rev: int, format: int, body: bytes) -> None:
        self._put(post_id, (version, rev, format, body))

    def put_account(self, account_id: int, version: int, format: int, body: bytes) -> None:
        self._put(-account_id, (version, 0, format, body))

    def _put(self, key: int, entry: Entry) -> None:
        if self.max_bytes <= 0 or self.max_entries <= 0:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old[3]) + _OVERHEAD
        self.entries[key] = entry
        self.bytes += len(entry[3]) + _OVERHEAD
        if self.bytes > self.max_bytes or len(self.entries) > self.max_entries:
            self._shrink(self.max_bytes * 3 // 4, self.max_entries * 3 // 4)

    def _shrink(self, target: int, entries_target: int) -> None:
        # One pass from the oldest (taking the first key again after each delete would
        # rescan the deleted slots: quadratic in the entries dropped).
        doomed: list[int] = []
        left = len(self.entries)
        for key, entry in self.entries.items():
            if self.bytes <= target and left <= entries_target:
                break
            left -= 1
            self.bytes -= len(entry[3]) + _OVERHEAD
            doomed.append(key)
        for key in doomed:
            del self.entries[key]

    def page(self, keys: set[int]) -> RenderingCache:
        """An unbounded copy of the entries under these keys (post ids, negated account
        ids): what a page being filled reads, whatever this cache can keep."""
        found = RenderingCache(sys.maxsize, sys.maxsize)
        for key in keys:
            entry = self.entries.get(key)
            if entry is not None:
                found._put(key, entry)
        return found

    def keep(self, other: RenderingCache) -> None:
        """Take `other`'s entries (as far as this cache's bound allows)."""
        for key, entry in other.entries.items():
            if self.entries.get(key) is not entry:
                self._put(key, entry)

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0
        for other in self.others.values():
            other.clear()
