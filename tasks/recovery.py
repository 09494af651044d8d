"""A worker's recovery loop: its heartbeat, jobs of dead workers put back, lost events re-enqueued.

SAQ moves a job to its `active` list when a worker takes it, and only its sweep
(every 60 s) ever takes it out again for a worker that died: once the job's
whole `timeout` has passed (120 s for an outbox event), and then one job at a
time, each after a 5 s wait for the dead worker to confirm an abort it will
never see. So a worker killed with SIGKILL left its jobs stuck for minutes.

Here every worker says it is alive (a key with a short expiry, renewed every
`BEAT_SECONDS`) and, every `TICK_SECONDS`, looks at the `active` list: a job
whose worker has stopped saying so, or one taken but never started for two
looks in a row (its worker died between the two steps of taking it), is put
straight back at the head of the queue, keeping its attempt count, so a job
that kills every worker that runs it still runs out of retries. The same
loop sweeps the outbox (`stgy.domain.jobs.outbox.sweep`): an event with no job
left in Redis (a flushed or restarted Redis, a job that ran out of retries)
is enqueued again; running it twice changes nothing (the event is claimed and
marked done in one transaction). So is a delivery or mail recorded in PostgreSQL
(`stgy.domain.jobs.durable_jobs.sweep`) whose job is no longer in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError
from saq.job import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now

from stgy import metrics
from stgy.domain.jobs import durable_jobs, outbox
from stgy.logs import quote
from stgy.services import Services

log = logging.getLogger("stgy.jobs")

# A worker renews its key this often; its jobs are someone else's to put back once
# the key has expired (`ALIVE_SECONDS` without a renewal: a dead or frozen worker).
BEAT_SECONDS = 2.0
ALIVE_SECONDS = 10.0
# How often the loop looks for abandoned jobs and lost events.
TICK_SECONDS = 2.0

# Put a job back if it is still on the `active` list (another worker may have put it
# back already, or its own worker finished it meanwhile): atomic, so it happens once.
_REQUEUE = """
if redis.call('LREM', KEYS[1], 0, KEYS[4]) == 0 then return 0 end
redis.call('SET', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], 0, KEYS[4])
redis.call('LPUSH', KEYS[2], KEYS[4])
return 1
"""
# The same when the job has no attempts left: it is finished as failed, kept as SAQ
# keeps a finished job (ttl > 0: that long; 0: for good; < 0: not at all).
_FAIL = """
if redis.call('LREM', KEYS[1], 0, KEYS[3]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], KEYS[3])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[3], ARGV[1], 'EX', ttl)
elseif ttl == 0 then
  redis.call('SET', KEYS[3], ARGV[1])
else
  redis.call('DEL', KEYS[3])
end
return 1
"""


def alive_key(queue: RedisQueue, worker_id: str) -> str:
    return queue.namespace(f"alive:{worker_id}")


async def beat(queue: RedisQueue, worker_id: str) -> None:
    """Say that `worker_id` is alive for the next `ALIVE_SECONDS`."""
    await queue.redis.set(alive_key(queue, worker_id), b"1", px=int(ALIVE_SECONDS * 1000))


class AbandonedJobs:
    """Finds jobs of dead workers on a queue's `active` list and puts them back."""

    def __init__(self, queue: RedisQueue) -> None:
        self.queue = queue
        # Jobs seen taken but not started, with their attempt count, at the last look.
        self._unstarted: dict[str, int] = {}
        self.requeued = 0
        # (function, key) of jobs failed for want of attempts, for the caller to forget.
        self.failed: list[tuple[str, str]] = []

    async def reap(self) -> int:
        """One look: how many jobs were put back (or failed, when out of attempts)."""
        queue = self.queue
        ids = await queue.redis.lrange(queue.namespace("active"), 0, -1)  # type: ignore[misc]
        if not ids:
            self._unstarted = {}
            return 0
        jobs = [
            job for job in map(queue.deserialize, await queue.redis.mget(ids)) if job is not None
        ]
        workers = sorted({job.worker_id for job in jobs if job.worker_id})
        alive: dict[str, bool] = {}
        if workers:
            found = await queue.redis.mget([alive_key(queue, w) for w in workers])
            alive = {w: value is not None for w, value in zip(workers, found, strict=True)}

        unstarted: dict[str, int] = {}
        put_back = 0
        for job in jobs:
            if job.status in (Status.ACTIVE, Status.ABORTING):
                if job.worker_id is None or alive.get(job.worker_id, True):
                    continue
            elif job.status in (Status.NEW, Status.QUEUED):
                # Taken (moved to `active`) but not yet marked active: normal for a few
                # milliseconds; the same attempt seen so at two looks is abandoned.
                if self._unstarted.get(job.id) != job.attempts:
                    unstarted[job.id] = job.attempts
                    continue
            else:
                continue  # finished: SAQ's own sweep tidies the list
            put_back += await self._put_back(job)
        self._unstarted = unstarted
        self.requeued += put_back
        return put_back

    async def _put_back(self, job: Job) -> int:
        queue = self.queue
        lost_by = job.worker_id
        if job.retryable:
            job.status = Status.QUEUED
            job.error = "worker lost"
            job.started = job.completed = 0
            job.touched = now()
            done = await queue.redis.eval(  # type: ignore[misc]
                _REQUEUE,
                4,
                queue.namespace("active"),
                queue.namespace("queued"),
                queue.namespace("incomplete"),
                job.id,
                queue.serialize(job),
            )
            outcome = "requeued"
        else:
            job.status = Status.FAILED
            job.error = "worker lost"
            job.completed = now()
            done = await queue.redis.eval(  # type: ignore[misc]
                _FAIL,
                3,
                queue.namespace("active"),
                queue.namespace("incomplete"),
                job.id,
                queue.serialize(job),
                str(job.ttl),
            )
            outcome = "failed"
            if done:
                self.failed.append((job.function, job.key))
        if done:
            metrics.JOBS.labels(job.function, f"worker_lost_{outcome}").inc()
            log.warning(
                "job=%s key=%s outcome=%s attempt=%d lost_worker=%s",
                job.function,
                quote(job.key),
                outcome,
                job.attempts,
                quote(str(lost_by)),
            )
        return int(bool(done))


class RecoveryLoop:
    """The heartbeat of one worker, and its looks for abandoned jobs and lost events."""

    def __init__(self, services: Services, worker_id: str) -> None:
        self.services = services
        self.worker_id = worker_id
        self.abandoned = AbandonedJobs(services.jobs.saq)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await beat(self.services.jobs.saq, self.worker_id)
        self._tasks = [
            asyncio.create_task(self._beating(), name="worker-heartbeat"),
            asyncio.create_task(self._recovering(), name="worker-recovery"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(RedisError, OSError):
            await self.services.redis.delete(alive_key(self.services.jobs.saq, self.worker_id))

    async def tick(self) -> tuple[int, int]:
        """One look: (jobs put back, events and durable jobs enqueued again)."""
        jobs = await self.abandoned.reap()
        while self.abandoned.failed:
            function, key = self.abandoned.failed.pop()
            await durable_jobs.forget(self.services, function, key)
        config = self.services.config.worker
        events = await outbox.sweep(self.services, retry_after_seconds=config.outbox_retry_after)
        events += await durable_jobs.sweep(self.services)
        return jobs, events

    async def _beating(self) -> None:
        failing = False
        while True:
            try:
                await beat(self.services.jobs.saq, self.worker_id)
            except (RedisError, OSError) as exc:
                if not failing:  # once per outage, not every beat
                    log.warning("heartbeat_failed error=%s", quote(str(exc)))
                failing = True
            else:
                if failing:
                    log.info("heartbeat_resumed")
                failing = False
            await asyncio.sleep(BEAT_SECONDS)

    async def _recovering(self) -> None:
        interval = float(self.services.config.worker.sweep_interval)
        failing = False
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged; the next look tries again
                if not failing:  # once per outage of PostgreSQL or Redis
                    log.warning("recovery_failed error=%s", quote(repr(exc)[:300]))
                failing = True
            else:
                if failing:
                    log.info("recovery_resumed")
                failing = False
