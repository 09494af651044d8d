"""Jobs that outlive Redis: recorded with the change that asks for them, enqueued after.

Deliveries to other servers and mails are not derived from an outbox event that could
be applied again: once a delivery job is enqueued, Redis alone held it, and a Redis
that lost its data (a restart without persistence, a flush) lost every delivery still
waiting, retries for a server that was down included. So such a job is written to
`durable_jobs` in the caller's transaction; the outbox relay (stgy/domain/jobs/relay.py)
enqueues it after the commit; the worker deletes the row once the job has run to an
end (done, refused, or out of retries; `forget`); and the recovery loop enqueues again
any row whose job is no longer in Redis (`sweep`). A job runs at least once, and twice
only when a worker dies or Redis is lost between its work and its row's deletion:
inboxes drop an activity they have seen, and mails carry a fixed Message-ID.
"""

from __future__ import annotations

import logging
from typing import Any

from stgy.jobs import DELIVER_ACTIVITY, SEND_MAIL
from stgy.services import Services
from storage import durable_jobs as durable_sql
from storage.db import Conn
from storage.durable_jobs import DurableJob

log = logging.getLogger("stgy.jobs")

# The jobs kept in PostgreSQL until they have run to an end.
DURABLE = frozenset({DELIVER_ACTIVITY, SEND_MAIL})
# A row whose job is not in the queue this long after it was enqueued was lost.
LOST_AFTER_SECONDS = 3.0
BATCH = 500


async def record(conn: Conn, function: str, keys: list[str], kwargs: list[dict[str, Any]]) -> int:
    """Record jobs in the caller's transaction; the relay enqueues them after its commit.
    A key still recorded (its job waiting or running) is not recorded again."""
    if function not in DURABLE:
        raise ValueError(f"{function} is not a durable job")
    if not keys:
        return 0
    return await durable_sql.insert_jobs(conn, function=function, keys=keys, kwargs=kwargs)


async def enqueue(services: Services, found: list[DurableJob]) -> None:
    # A delivery's first retry waits as configured (federation.delivery_retry_delay).
    delivery_delay = services.config.federation.delivery_retry_delay
    for job in found:
        delay = delivery_delay if job.function == DELIVER_ACTIVITY else None
        await services.jobs.enqueue(job.function, key=job.key, retry_delay=delay, **job.kwargs)


async def relay_waiting(services: Services) -> int:
    """Enqueue every recorded job waiting for the relay; how many."""
    total = 0
    while True:
        async with services.pool.acquire() as conn:
            found = await durable_sql.take_unrelayed(conn, limit=BATCH)
        await enqueue(services, found)
        total += len(found)
        if len(found) < BATCH:
            return total


async def sweep(services: Services, *, idle_seconds: float = LOST_AFTER_SECONDS) -> int:
    """Enqueue again every recorded job that has no job in the queue (lost with Redis);
    how many."""
    total = 0
    after_id = 0
    while True:
        async with services.pool.acquire() as conn:
            found = await durable_sql.idle_jobs(
                conn, idle_seconds=idle_seconds, after_id=after_id, limit=BATCH
            )
        if not found:
            break
        queued = await services.jobs.unfinished([job.key for job in found])
        lost = [job for job in found if job.key not in queued]
        if lost:
            async with services.pool.acquire() as conn:
                stamped = set(
                    await durable_sql.stamp_enqueued(conn, job_ids=[job.id for job in lost])
                )
            await enqueue(services, [job for job in lost if job.id in stamped])
            total += len(stamped)
        if len(found) < BATCH:
            break
        after_id = found[-1].id
    if total:
        log.info("durable_jobs_sweep re_enqueued=%d", total)
    return total


async def forget(services: Services, function: str, key: str | None) -> None:
    """A job has run to an end: its row goes (a no-op for other jobs)."""
    if function in DURABLE and key:
        async with services.pool.acquire() as conn:
            await durable_sql.delete_job(conn, key=key)
