"""The worker's recovery loop: jobs of a dead worker go back to the queue at once, jobs of
a live one stay; an event whose job is gone is enqueued again, one that has a job is not."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from saq.job import Status

from stgy.domain.jobs import outbox
from stgy.jobs import outbox_job_key
from stgy.services import Services
from tasks.recovery import AbandonedJobs, RecoveryLoop, alive_key, beat
from tests.integration.test_outbox import drain, effects, forget_queue, write_events


async def held_jobs(services: Services) -> dict[str, dict[str, Any]]:
    """The jobs on the `active` list, by key."""
    queue = services.jobs.saq
    ids = await services.redis.lrange(queue.namespace("active"), 0, -1)
    jobs = [orjson.loads(p) for p in await services.redis.mget(ids)] if ids else []
    return {job["key"]: job for job in jobs}


async def take(services: Services, worker_id: str, *, start: bool = True) -> str:
    """Take the next job as a worker would: moved to `active`, then (`start`) marked
    running by `worker_id`. The worker then 'dies': nothing more happens to the job."""
    job = await services.jobs.saq.dequeue()
    assert job is not None
    if start:
        job.attempts += 1
        job.worker_id = worker_id
        await job.update(status=Status.ACTIVE)
    return str(job.key)


async def queued_keys(services: Services) -> list[str]:
    queue = services.jobs.saq
    ids = await services.redis.lrange(queue.namespace("queued"), 0, -1)
    return [queue.job_key_from_id(i.decode()) for i in ids]


async def test_jobs_of_a_dead_worker_are_put_back_first(services: Services, effects: None) -> None:
    ids = await write_events(services, 3)
    await outbox.enqueue_events(services.jobs, ids)
    reaper = AbandonedJobs(services.jobs.saq)
    await beat(services.jobs.saq, "alive-worker")

    dead_key = await take(services, "dead-worker")
    live_key = await take(services, "alive-worker")
    assert set(await held_jobs(services)) == {dead_key, live_key}

    assert await reaper.reap() == 1
    # The dead worker's job is first in line again with its attempt counted; the live
    # worker's job is left to it.
    assert await queued_keys(services) == [dead_key, outbox_job_key(ids[2])]
    held = await held_jobs(services)
    assert set(held) == {live_key}
    job = await services.jobs.saq.job(dead_key)
    assert job is not None
    assert (job.status, job.attempts, job.error) == (Status.QUEUED, 1, "worker lost")

    # A second look (by this or another worker) changes nothing more.
    assert await reaper.reap() == 0
    assert await AbandonedJobs(services.jobs.saq).reap() == 0

    # Once the live worker stops saying it is alive, its job is put back too.
    await services.redis.delete(alive_key(services.jobs.saq, "alive-worker"))
    assert await reaper.reap() == 1
    await drain(services)
    async with services.pool.acquire() as conn:
        done = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE id = ANY($1) AND done_at IS NOT NULL", ids
        )
        effects_rows = await conn.fetchval("SELECT count(*) FROM outbox_test_effects")
    assert (done, effects_rows) == (3, 3)


async def test_a_job_taken_but_never_started_is_put_back_at_the_second_look(
    services: Services, effects: None
) -> None:
    [event_id] = await write_events(services, 1)
    await outbox.enqueue_events(services.jobs, [event_id])
    key = await take(services, "any", start=False)
    reaper = AbandonedJobs(services.jobs.saq)
    # Normal for a moment (a live worker between the two steps of taking a job).
    assert await reaper.reap() == 0
    assert await reaper.reap() == 1
    assert await queued_keys(services) == [key]


async def test_a_job_out_of_attempts_fails_instead(services: Services, effects: None) -> None:
    [event_id] = await write_events(services, 1)
    await outbox.enqueue_events(services.jobs, [event_id])
    job = await services.jobs.saq.dequeue()
    assert job is not None
    job.attempts = job.retries
    job.worker_id = "dead-worker"
    await job.update(status=Status.ACTIVE)

    assert await AbandonedJobs(services.jobs.saq).reap() == 1
    assert await queued_keys(services) == []
    assert await services.jobs.unfinished([str(job.key)]) == set()
    failed = await services.jobs.saq.job(str(job.key))
    assert failed is not None and failed.status == Status.FAILED

    # The event is still not done: the outbox sweep enqueues it again after the wait for
    # events whose job gave up (not at once), and it is applied.
    loop = RecoveryLoop(services, "sweeper")
    async with services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE outbox_events SET last_error = 'worker lost', enqueued_at = now()"
            " WHERE id = $1",
            event_id,
        )
    assert await outbox.sweep(services, retry_after_seconds=3600, idle_seconds=0) == 0
    async with services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE outbox_events SET enqueued_at = now() - interval '2 hours' WHERE id = $1",
            event_id,
        )
    assert await loop.tick() == (0, 1)
    await drain(services)
    async with services.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT done_at IS NOT NULL FROM outbox_events WHERE id = $1", event_id
        )


async def test_events_whose_jobs_wait_are_not_enqueued_again(
    services: Services, effects: None
) -> None:
    ids = await write_events(services, 4)
    await outbox.enqueue_events(services.jobs, ids[:2])
    # ids[2:] were recorded but never enqueued (Redis was down at the commit, say).
    assert await outbox.sweep(services, retry_after_seconds=60, idle_seconds=0) == 2
    assert sorted(await queued_keys(services)) == sorted(outbox_job_key(i) for i in ids)
    await forget_queue(services)  # Redis restarted empty
    assert await outbox.sweep(services, retry_after_seconds=60, idle_seconds=0) == 4
    assert await outbox.sweep(services, retry_after_seconds=60, idle_seconds=0) == 0
    await drain(services)


async def test_a_job_for_an_event_this_database_never_had_fails(
    services: Services, effects: None
) -> None:
    """Two instances sharing a queue: a job must not finish as done in the wrong one."""
    with pytest.raises(outbox.EventMissing, match="event 1 is not in database"):
        await outbox.handle_event(services, 1)
