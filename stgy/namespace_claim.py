"""The claim a running instance holds on its Redis namespace, so that two instances
(two databases) never share one: a second one would take the first one's jobs.

Every process of an instance (server, workers, admin commands) sets the key
`<namespace>:owner` to the identity of its database, for `CLAIM_SECONDS`, and a
live process renews it every `RENEW_SECONDS`. A process of another database finding
the key held refuses to start. Nothing is released on exit: a stopped or killed
instance's claim lapses by itself, and its own restart (same database) is welcome
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from stgy.config import Config, ConfigError

log = logging.getLogger("stgy.namespace")

CLAIM_SECONDS = 30
RENEW_SECONDS = 10

# Set the key to our database when it is free or already ours (renewing it), else
# answer who holds it and for how many seconds more.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return {}
end
return {held, redis.call('TTL', KEYS[1])}
"""


class NamespaceTaken(ConfigError):
    """Another instance's database holds this namespace (a one-line message saying what to do)."""


def owner_key(config: Config) -> str:
    return f"{config.namespace}:owner"


def database_identity(url: str) -> str:
    """host:port/database of a PostgreSQL URL, without user or password."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/")) or "postgres"
    return f"{(parts.hostname or '').lower()}:{parts.port or 5432}/{name}"


async def claim(redis: aioredis.Redis, config: Config) -> None:
    """Claim (or renew) the namespace for this instance's database; NamespaceTaken when
    another database holds it. Redis errors are the caller's."""
    ours = database_identity(config.database.url)
    answer = await redis.eval(_CLAIM, 1, owner_key(config), ours, str(CLAIM_SECONDS))  # type: ignore[misc]
    if not answer:
        return
    raw_holder, seconds = answer
    holder = raw_holder.decode() if isinstance(raw_holder, bytes) else str(raw_holder)
    raise NamespaceTaken(
        f"Redis namespace {config.namespace!r} is held by the instance on database "
        f"{holder}, not this one's ({ours}): two instances must not share one; leave "
        "redis.queue_prefix empty (STGY_REDIS_QUEUE_PREFIX) for a namespace of this "
        "instance's own, or set a different one"
        f" (if that instance has stopped, its claim lapses within {max(int(seconds), 1)} s)"
    )


async def claim_at_start(config: Config) -> None:
    """Claim with a client of its own, before a command starts its processes: a clean
    refusal (NamespaceTaken) instead of a failure inside them. Redis being down is
    left to the processes, which start without it."""
    redis = aioredis.from_url(config.redis.url, socket_connect_timeout=2.0, socket_timeout=5.0)
    try:
        await claim(redis, config)
    except (RedisError, OSError) as exc:
        log.warning("namespace_claim_failed namespace=%s error=%r", config.namespace, str(exc))
    finally:
        await redis.aclose()


class NamespaceClaim:
    """Holds the claim while a process runs: claimed at start, renewed in the background."""

    def __init__(self, redis: aioredis.Redis, config: Config) -> None:
        self._redis = redis
        self._config = config
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Claim now (NamespaceTaken if another instance holds it), then keep renewing.
        With Redis down the process starts anyway, as it does without the claim, and
        claims once Redis answers."""
        try:
            await claim(self._redis, self._config)
        except (RedisError, OSError) as exc:
            log.warning("namespace_claim_failed namespace=%s error=%r", self._namespace, str(exc))
        self._task = asyncio.create_task(self._renew(), name="namespace-claim")

    @property
    def _namespace(self) -> str:
        return self._config.namespace

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                await claim(self._redis, self._config)
            except NamespaceTaken as exc:
                # Only if our claim lapsed (Redis down past CLAIM_SECONDS) and another
                # instance started meanwhile: say so loudly, every time.
                log.error("namespace_taken namespace=%s detail=%r", self._namespace, str(exc))
            except (RedisError, OSError) as exc:
                log.warning(
                    "namespace_renew_failed namespace=%s error=%r", self._namespace, str(exc)
                )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
