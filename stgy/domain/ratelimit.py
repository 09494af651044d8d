"""Rate limits counted in Redis: writes per client address a minute, and the Mastodon
API's requests per client in its windows (several counters in one round trip, and
reads counted in the process between round trips)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from stgy.domain.errors import RateLimited
from stgy.logs import quote
from stgy.services import Services
from storage import cache

log = logging.getLogger("stgy.ratelimit")


def write_key(services: Services, client: str) -> str:
    return f"{services.config.namespace}:rate:write:{client}"


async def count_write(services: Services, client: str) -> None:
    """Count one write by `client`; over `limits.rate_limit_requests_per_minute` is 429.

    While Redis cannot be reached the write is let through uncounted (as Mastodon's
    rack-attack does): the write itself needs only PostgreSQL, and refusing every
    write for a cache outage would be worse than a minute without the limit.
    """
    key = write_key(services, client)
    try:
        [(hits, retry_after)] = await cache.count_hits(
            services.redis, keys=[key], window_seconds=60
        )
    except (RedisError, OSError) as exc:
        log.warning("rate_limit_skipped error=%s", quote(type(exc).__name__))
        return
    if hits > services.config.limits.rate_limit_requests_per_minute:
        raise RateLimited({"reason": "too many requests", "retry_after": retry_after})


@dataclass(frozen=True)
class Rule:
    """One counter: at most `limit` hits on `key` in a window of `window` seconds."""

    key: str
    limit: int
    window: int


@dataclass(frozen=True)
class Allowance:
    """What the tightest counter of a request allows: its limit, the hits left (0 once
    over) and the seconds until it resets; `exceeded` when any counter is over."""

    limit: int
    remaining: int
    reset_after: int
    exceeded: bool


# Counting in this process between round trips. A request counted on one counter only
# (the Mastodon API's reads, per person) is counted here while the counter is far from
# its limit and was read from Redis lately; its hits are added in Redis with the next
# round trip, at most every SYNC_HITS hits or SYNC_SECONDS. Near the limit every hit
# makes the round trip, so the limit holds to the hit in one process; with several
# processes it can be passed by what the others have not sent yet (SYNC_HITS - 1 each).
SYNC_HITS = 16
SYNC_SECONDS = 1.0
KEPT_TALLIES = 10_000


@dataclass
class _Tally:
    """A counter as this process knows it: Redis' count at the last round trip plus the
    hits counted here since, of which `unsent` are not in Redis yet."""

    hits: int
    unsent: int
    resets_at: float  # time.monotonic() when the window ends
    read_at: float
    sending: bool = False  # a round trip is under way


_tallies: dict[str, _Tally] = {}


def _count_here(rule: Rule, now: float) -> Allowance | None:
    """This hit counted in the process, or None when it must make the round trip."""
    tally = _tallies.get(rule.key)
    if tally is None or now >= tally.resets_at or tally.hits + SYNC_HITS >= rule.limit:
        return None
    if not tally.sending and (tally.unsent + 1 >= SYNC_HITS or now - tally.read_at >= SYNC_SECONDS):
        return None
    tally.hits += 1
    tally.unsent += 1
    return Allowance(rule.limit, rule.limit - tally.hits, math.ceil(tally.resets_at - now), False)


def _take_unsent(rule: Rule, now: float) -> int:
    """The hits counted here that this round trip adds, besides its own."""
    tally = _tallies.get(rule.key)
    if tally is None or now >= tally.resets_at:
        return 0  # those of an ended window count in none
    taken, tally.unsent, tally.sending = tally.unsent, 0, True
    return taken


def _read(rule: Rule, hits: int, reset_after: int, now: float) -> int:
    """Keep what Redis answered; the count with the hits counted here meanwhile."""
    tally = _tallies.get(rule.key)
    if tally is None:
        if len(_tallies) >= KEPT_TALLIES:
            _tallies.pop(next(iter(_tallies)))  # its unsent hits (fewer than SYNC_HITS) go
        tally = _tallies[rule.key] = _Tally(hits, 0, now + reset_after, now)
    tally.hits = hits + tally.unsent
    tally.resets_at, tally.read_at, tally.sending = now + reset_after, now, False
    return tally.hits


def _give_back(rule: Rule, taken: int) -> None:
    tally = _tallies.get(rule.key)
    if tally is not None:
        tally.unsent += taken
        tally.sending = False


async def count_request(services: Services, rules: list[Rule]) -> Allowance | None:
    """Count one hit on every rule's counter, in one round trip to Redis (or none, see
    SYNC_HITS). None while Redis cannot be reached (let through uncounted, as
    count_write)."""
    now = time.monotonic()
    if len(rules) == 1:
        here = _count_here(rules[0], now)
        if here is not None:
            return here
    taken = [_take_unsent(rule, now) for rule in rules]
    try:
        counts = await cache.count_windows(
            services.redis,
            counters=[(r.key, r.window, 1 + more) for r, more in zip(rules, taken, strict=True)],
        )
    except BaseException as exc:  # the hits taken stay to be sent with the next trip
        for rule, more in zip(rules, taken, strict=True):
            _give_back(rule, more)
        if not isinstance(exc, RedisError | OSError):
            raise  # cancelled (the client went), or a bug
        log.warning("rate_limit_skipped error=%s", quote(type(exc).__name__))
        return None
    now = time.monotonic()
    allowances = []
    for rule, (hits, retry) in zip(rules, counts, strict=True):
        known = _read(rule, hits, retry, now)
        allowances.append(
            Allowance(rule.limit, max(0, rule.limit - known), retry, hits > rule.limit)
        )
    over = [a for a in allowances if a.exceeded]
    return min(over or allowances, key=lambda a: (a.remaining, -a.reset_after))
