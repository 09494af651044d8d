"""How often this process may fetch the actors that sign requests to it: a known actor's
document at most once per interval (for a rotated key), an unknown one when its host's
token bucket has a token and it did not fail within the interval.

Without these, each request with a bad signature made one outgoing fetch: a flood of
them turned the instance into an amplifier aimed at whatever host the key ids named.
Both tables are BoundedMaps (stgy/bounded.py): a host or URL dropped from them starts
afresh, which costs at most one more fetch (or one more burst) for it.
"""

from __future__ import annotations

import math

from stgy.bounded import BoundedMap

# Entries of each table, and bytes (key lengths plus this allowance for each entry's
# OrderedDict node, tuple and floats).
MAX_ENTRIES = 10_000
MAX_BYTES = 4 * 1024 * 1024
_OVERHEAD = 200


def _size(key: str, value: object) -> int:
    return len(key) + _OVERHEAD


class FetchLimits:
    """The fetches of senders' actor documents one process may make.

    `refetch_interval`: seconds between two fetches of one actor URL after a signature
    failed with its stored key, and between two tries of an unknown actor that failed.
    `per_minute`, `burst`: the token bucket of each host for fetches of unknown actors.
    Times are `time.monotonic()` seconds, passed in by the caller.
    """

    def __init__(
        self,
        *,
        refetch_interval: float,
        per_minute: float,
        burst: int,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.refetch_interval = refetch_interval
        self.per_minute = per_minute
        self.burst = burst
        # Actor URL -> when it was last refetched, or last failed to be fetched.
        self.attempts: BoundedMap[str, float] = BoundedMap(max_entries, max_bytes, _size)
        # Host -> (tokens left, when counted).
        self.buckets: BoundedMap[str, tuple[float, float]] = BoundedMap(
            max_entries, max_bytes, _size
        )

    def may_refetch(self, url: str, now: float) -> bool:
        """True (and counted) when the known actor at `url` may be fetched again now."""
        if self._waiting(url, now) > 0:
            return False
        self.attempts.put(url, now)
        return True

    def unknown_fetch_wait(self, url: str, host: str, now: float) -> int:
        """0 when the unknown actor at `url` on `host` may be fetched now (a token of the
        host's bucket is taken); else the whole seconds to wait before asking again."""
        waiting = self._waiting(url, now)
        if waiting > 0:
            return math.ceil(waiting)
        tokens, counted = self.buckets.get(host) or (float(self.burst), now)
        tokens = min(float(self.burst), tokens + (now - counted) * self.per_minute / 60.0)
        if tokens < 1.0:
            self.buckets.put(host, (tokens, now))
            return max(1, math.ceil((1.0 - tokens) * 60.0 / self.per_minute))
        self.buckets.put(host, (tokens - 1.0, now))
        return 0

    def fetch_failed(self, url: str, now: float) -> None:
        """An unknown actor's fetch failed: not tried again within the interval."""
        self.attempts.put(url, now)

    def _waiting(self, url: str, now: float) -> float:
        last = self.attempts.get(url)
        if last is None:
            return 0.0
        return max(0.0, self.refetch_interval - (now - last))

    def clear(self) -> None:
        self.attempts.clear()
        self.buckets.clear()
