"""Redis helpers: fixed-window counters (rate limits) and key clean-up."""

from __future__ import annotations

import redis.asyncio as aioredis


async def count_hits(
    redis: aioredis.Redis, *, keys: list[str], window_seconds: int
) -> list[tuple[int, int]]:
    """Count one hit on each counter (each lives `window_seconds` from its first hit);
    returns each counter's hits and seconds left."""
    async with redis.pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
            pipe.ttl(key)
        values = await pipe.execute()
    return [(int(values[i]), max(1, int(values[i + 2]))) for i in range(0, len(values), 3)]


async def count_windows(
    redis: aioredis.Redis, *, counters: list[tuple[str, int]]
) -> list[tuple[int, int]]:
    """count_hits for counters of different windows, (key, window seconds) each, in one
    round trip."""
    async with redis.pipeline(transaction=True) as pipe:
        for key, window_seconds in counters:
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
            pipe.ttl(key)
        values = await pipe.execute()
    return [(int(values[i]), max(1, int(values[i + 2]))) for i in range(0, len(values), 3)]


async def most_hits(redis: aioredis.Redis, *, keys: list[str]) -> tuple[int, int]:
    """The highest count among the counters, and seconds until that one resets."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        values = await pipe.execute()
    best, ttl = 0, 0
    for count, left in zip(values[::2], values[1::2], strict=True):
        if count is not None and int(count) > best:
            best, ttl = int(count), max(1, int(left))
    return best, ttl


async def drop_prefix(redis: aioredis.Redis, *, prefix: str) -> int:
    """Delete every key starting with `prefix`; returns how many."""
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    return len(keys)
