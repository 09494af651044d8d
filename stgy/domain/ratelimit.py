"""Rate limits on writes: a fixed one-minute window per client address, counted in Redis."""

from __future__ import annotations

from stgy.domain.errors import RateLimited
from stgy.services import Services
from storage import cache


async def count_write(services: Services, client: str) -> None:
    """Count one write by `client`; over `limits.rate_limit_requests_per_minute` is 429."""
    key = f"{services.config.namespace}:rate:write:{client}"
    [(hits, retry_after)] = await cache.count_hits(services.redis, keys=[key], window_seconds=60)
    if hits > services.config.limits.rate_limit_requests_per_minute:
        raise RateLimited({"reason": "too many requests", "retry_after": retry_after})
