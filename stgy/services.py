"""The long-lived clients of a process: PostgreSQL pool, Redis, HTTP client, job queue,
object store."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from saq.job import Job
from saq.queue.redis import RedisQueue

from federation.ssrf import GuardedTransport
from stgy import __version__
from stgy.config import Config
from stgy.fetch_limits import FetchLimits
from stgy.jobs import AGENTS_QUEUE, DEFAULT_QUEUE, JOBS
from stgy.logs import quote
from stgy.namespace_claim import NamespaceClaim
from stgy.page_cache import RenderingCache
from storage import db
from storage.blobs import BlobStore, LocalBlobStore, S3BlobStore

log = logging.getLogger("stgy.services")


# Seconds a worker waits before asking Redis for a job again when it could not be reached.
DEQUEUE_RETRY_SECONDS = 1.0


class BackingOffRedisQueue(RedisQueue):
    """SAQ's Redis queue, whose `dequeue` waits a second and answers "no job" while
    Redis cannot be reached.

    SAQ's worker starts its next dequeue as soon as one fails: with Redis down, each
    of its `worker.concurrency` loops spun on "connection refused" (most of a core,
    and silently). The outage is logged once when it starts and once when it ends.
    """

    def __init__(self, redis: aioredis.Redis, **kwargs: Any) -> None:
        super().__init__(redis, **kwargs)
        self.unreachable_since: float | None = None

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        try:
            job = await super().dequeue(timeout, poll_interval)
        except (RedisConnectionError, OSError) as exc:
            if self.unreachable_since is None:
                self.unreachable_since = time.monotonic()
                log.warning(
                    "queue_unreachable error=%s (retrying every %.0f s)",
                    quote(f"{type(exc).__name__}: {exc}"),
                    DEQUEUE_RETRY_SECONDS,
                )
            await asyncio.sleep(DEQUEUE_RETRY_SECONDS)
            return None
        self._reachable()
        return job

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """SAQ's sweep of stuck jobs (a worker's upkeep, every minute): skipped while
        Redis cannot be reached, rather than logging a traceback; dequeue says it."""
        try:
            swept: list[str] = await super().sweep(lock, abort)
        except (RedisConnectionError, OSError):
            return []
        return swept

    def _reachable(self) -> None:
        if self.unreachable_since is not None:
            down = time.monotonic() - self.unreachable_since
            self.unreachable_since = None
            log.info("queue_reachable_again after_s=%.1f", down)


class JobQueue:
    """Enqueues jobs by name with the settings of `stgy.jobs.JOBS`, each on its queue
    (`saq` is the default one; `queues` has them all by their short name)."""

    def __init__(self, queue: RedisQueue, agents: RedisQueue | None = None) -> None:
        self.saq = queue
        self.queues: dict[str, RedisQueue] = {DEFAULT_QUEUE: queue}
        if agents is not None:
            self.queues[AGENTS_QUEUE] = agents

    @property
    def name(self) -> str:
        return str(self.saq.name)

    async def enqueue(
        self,
        function: str,
        *,
        key: str | None = None,
        retry_delay: float | None = None,
        **kwargs: Any,
    ) -> bool:
        """Enqueue a job; False when a job with the same key is already waiting or running.
        `retry_delay` replaces the job's own first wait before a retry (configurable ones)."""
        settings = JOBS[function]
        job_fields: dict[str, Any] = {
            "timeout": settings.timeout,
            "retries": settings.retries,
            "retry_delay": settings.retry_delay if retry_delay is None else retry_delay,
            "retry_backoff": settings.retry_backoff,
            "ttl": settings.ttl,
        }
        if key is not None:
            job_fields["key"] = key
        queue = self.queues.get(settings.queue, self.saq)
        job = await queue.enqueue(function, **job_fields, **kwargs)
        return job is not None

    async def depth(self) -> int:
        return int(await self.saq.count("queued"))

    async def busy(self) -> bool:
        """Whether the default queue (fan-out, delivery, mail, media) has jobs waiting or
        running, which work of a lower priority (the agents') lets go first."""
        async with self.saq.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.saq.namespace("queued"))
            pipe.llen(self.saq.namespace("active"))
            queued, active = await pipe.execute()
        return bool(queued or active)

    async def unfinished(self, keys: list[str]) -> set[str]:
        """Which of these job keys have a job waiting, scheduled for a retry or running."""
        if not keys:
            return set()
        incomplete = self.saq.namespace("incomplete")
        async with self.saq.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zscore(incomplete, self.saq.job_id(key))
            scores = await pipe.execute()
        return {key for key, score in zip(keys, scores, strict=True) if score is not None}


def queue_name(config: Config, queue: str = DEFAULT_QUEUE) -> str:
    """The SAQ queue's name: `<namespace>:jobs`, and `<namespace>:agents` for AI agents."""
    return f"{config.namespace}:jobs" if queue == DEFAULT_QUEUE else f"{config.namespace}:{queue}"


def make_redis(config: Config) -> aioredis.Redis:
    """The Redis client. A command that finds its pooled connection dead (Redis restarted
    since) is sent once more on a new connection, so the first request after a restart
    does not fail; while Redis is down, that second try fails at once too."""
    return aioredis.from_url(
        config.redis.url,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


def make_http_client(config: Config) -> httpx.AsyncClient:
    """The client for other servers: every connection goes through the SSRF guard,
    which checks the addresses a name resolves to when it connects."""
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private=config.address_scope),
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"User-Agent": f"stgy/{__version__} (+{config.instance.base_url}/)"},
        follow_redirects=False,
    )


def make_blob_store(config: Config) -> BlobStore:
    storage = config.storage
    if storage.backend == "s3":
        return S3BlobStore(
            bucket=storage.s3_bucket,
            endpoint_url=storage.s3_endpoint_url,
            region=storage.s3_region,
            access_key=storage.s3_access_key,
            secret_key=storage.s3_secret_key,
            public_url=storage.s3_public_url,
        )
    return LocalBlobStore(config.media_path, config.instance.base_url)


@dataclass
class Services:
    config: Config
    pool: asyncpg.Pool
    redis: aioredis.Redis
    http: httpx.AsyncClient
    jobs: JobQueue
    blobs: BlobStore
    renderings: RenderingCache  # this process's copies of post and account renderings
    claim: NamespaceClaim  # this instance's hold on its Redis namespace
    fetch_limits: FetchLimits  # this process's fetches of signers' actors (key refetches)

    @classmethod
    async def start(cls, config: Config) -> Services:
        """Connect everything; NamespaceTaken (a ConfigError) when another instance's
        database holds the Redis namespace."""
        redis = make_redis(config)
        claim = NamespaceClaim(redis, config)
        try:
            await claim.start()
        except BaseException:
            await redis.aclose()
            raise
        try:
            pool = await db.create_pool(
                config.database.url,
                min_size=config.database.pool_min,
                max_size=config.database.pool_max,
                command_timeout=config.database.command_timeout,
                connect_timeout=config.database.connect_timeout,
                acquire_timeout=config.database.acquire_timeout,
            )
        except BaseException:
            await claim.stop()
            await redis.aclose()
            raise
        queue = BackingOffRedisQueue(redis, name=queue_name(config))
        agents = BackingOffRedisQueue(redis, name=queue_name(config, AGENTS_QUEUE))
        return cls(
            config,
            pool,
            redis,
            make_http_client(config),
            JobQueue(queue, agents),
            make_blob_store(config),
            RenderingCache(config.server.rendering_cache_mb * 1024 * 1024),
            claim,
            FetchLimits(
                refetch_interval=config.federation.key_refetch_interval,
                per_minute=config.federation.unknown_actor_fetches_per_minute,
                burst=config.federation.unknown_actor_fetch_burst,
            ),
        )

    async def close(self) -> None:
        await self.claim.stop()
        await self.http.aclose()
        await self.blobs.close()
        try:
            # Closes the Redis client it shares with us.
            await self.jobs.saq.disconnect()
        except (RedisError, OSError) as exc:
            # Redis being down must not stop a clean shutdown of everything else.
            log.warning("redis_close_failed error=%r", str(exc))
            await self.redis.aclose()
            await self.redis.connection_pool.disconnect()
        await self.pool.close()
