"""Rate limits on writes: a fixed one-minute window per client address, counted in Redis."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from stgy.domain.errors import RateLimited
from stgy.logs import quote
from stgy.services import Services
from storage import cache

log = logging.getLogger("stgy.ratelimit")


async def count_write(services: Services, client: str) -> None:
    """Count one write by `client`; over `limits.rate_limit_requests_per_minute` is 429.

    While Redis cannot be reached the write is let through uncounted (as Mastodon's
    rack-attack does): the write itself needs only PostgreSQL, and refusing every
    write for a cache outage would be worse than a minute without the limit.
    """
    key = f"{services.config.namespace}:rate:write:{client}"
    try:
        [(hits, retry_after)] = await cache.count_hits(
            services.redis, keys=[key], window_seconds=60
        )
    except (RedisError, OSError) as exc:
        log.warning("rate_limit_skipped error=%s", quote(type(exc).__name__))
        return
    if hits > services.config.limits.rate_limit_requests_per_minute:
        raise RateLimited({"reason": "too many requests", "retry_after": retry_after})
