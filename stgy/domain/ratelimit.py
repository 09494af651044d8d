"""Rate limits counted in Redis: writes per client address a minute, and the Mastodon
API's requests per client in its windows (several counters in one round trip)."""

from __future__ import annotations

import logging
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


async def count_request(services: Services, rules: list[Rule]) -> Allowance | None:
    """Count one hit on every rule's counter, in one round trip to Redis. None while
    Redis cannot be reached (let through uncounted, as count_write)."""
    try:
        counts = await cache.count_windows(
            services.redis, counters=[(rule.key, rule.window) for rule in rules]
        )
    except (RedisError, OSError) as exc:
        log.warning("rate_limit_skipped error=%s", quote(type(exc).__name__))
        return None
    allowances = [
        Allowance(rule.limit, max(0, rule.limit - hits), retry, hits > rule.limit)
        for rule, (hits, retry) in zip(rules, counts, strict=True)
    ]
    over = [a for a in allowances if a.exceeded]
    return min(over or allowances, key=lambda a: (a.remaining, -a.reset_after))
