"""The transactional outbox survives a lost Redis queue and applies each event exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from saq import Worker

from stgy.domain.jobs import outbox
from stgy.jobs import HANDLE_OUTBOX_EVENT, outbox_job_key
from stgy.services import Services
from storage import durable_jobs as durable_sql
from storage import outbox as outbox_sql
from storage.db import Conn
from storage.outbox import OutboxEvent
from tasks.context import JobContext
from tasks.worker import make_worker

KIND = "test.record"
FAILING_KIND = "test.fail_once"


@outbox.handles(KIND)
async def record_effect(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await conn.execute(
        "INSERT INTO outbox_test_effects (event_id, label) VALUES ($1, $2)",
        event.id,
        event.payload["label"],
    )


@outbox.handles(FAILING_KIND)
async def fail_first_time(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await conn.execute(
        "INSERT INTO outbox_test_effects (event_id, label) VALUES ($1, $2)", event.id, "try"
    )
    if event.attempts == 1:  # attempts begun, this one included
        raise RuntimeError("first attempt fails")


@pytest.fixture
async def effects(services: Services) -> Any:
    async with services.pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS outbox_test_effects (event_id bigint, label text)"
        )
        await conn.execute("TRUNCATE outbox_test_effects")
        await conn.execute("DELETE FROM outbox_events")
        await conn.execute("DELETE FROM durable_jobs")
    # Jobs other tests left waiting (retries, scheduled attempts) would skew the counts.
    await forget_queue(services)
    return None


async def drain(services: Services) -> None:
    """Run a worker on this run's queue until nothing is left to do now. A burst worker
    stops once it finds the queue empty for a moment (0.1 s, not the half second a
    single worker would need to catch the follow-ups of its last jobs: drains are most
    of the suite's waiting); what its jobs left behind (an event the relay has not
    enqueued yet, a job enqueued as it stopped) gets another worker."""
    for _ in range(50):
        worker: Worker[JobContext] = make_worker(services, burst=True, dequeue_timeout=0.1)
        await worker.start()
        async with services.pool.acquire() as conn:
            unrelayed = await outbox_sql.count_unrelayed(conn)
            unrelayed += await durable_sql.count_unrelayed(conn)
        if not unrelayed and not await services.jobs.depth():
            return
    raise AssertionError("the queue never emptied")


async def forget_queue(services: Services) -> None:
    """What a Redis restart does to the queue: every job and key is gone."""
    keys = [k async for k in services.redis.scan_iter(match=f"saq:{services.jobs.name}:*")]
    keys += [k async for k in services.redis.scan_iter(match=f"saq:job:{services.jobs.name}:*")]
    if keys:
        await services.redis.delete(*keys)


async def write_events(services: Services, n: int, kind: str = KIND) -> list[int]:
    ids = []
    async with services.pool.acquire() as conn:
        for i in range(n):
            async with conn.transaction():
                ids.append(await outbox.record_event(conn, kind, {"label": f"e{i}"}))
    return ids


async def test_lost_queue_is_recovered_by_the_sweeper_exactly_once(
    services: Services, effects: None
) -> None:
    ids = await write_events(services, 25)
    await outbox.enqueue_events(services.jobs, ids)
    assert await services.jobs.depth() == 25

    await forget_queue(services)
    assert await services.jobs.depth() == 0

    # Only events idle past the grace are taken; then every lost one is, once: a second
    # sweep finds their jobs waiting in the queue and enqueues nothing.
    assert await outbox.sweep(services, retry_after_seconds=60, idle_seconds=3600) == 0
    assert await outbox.sweep(services, retry_after_seconds=60, idle_seconds=0) == 25
    assert await outbox.sweep(services, retry_after_seconds=60, idle_seconds=0) == 0
    assert await services.jobs.depth() == 25
    await drain(services)

    async with services.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_id, count(*) AS n FROM outbox_test_effects GROUP BY 1"
        )
        pending = await conn.fetchval("SELECT count(*) FROM outbox_events WHERE done_at IS NULL")
    assert {r["event_id"]: r["n"] for r in rows} == {i: 1 for i in ids}
    assert pending == 0

    # Sweeping and running again (a job that ran twice) changes nothing.
    assert await outbox.sweep(services, retry_after_seconds=0, idle_seconds=0) == 0
    for event_id in ids[:5]:
        await services.jobs.enqueue(
            HANDLE_OUTBOX_EVENT, key=outbox_job_key(event_id) + ":again", event_id=event_id
        )
    await drain(services)
    async with services.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM outbox_test_effects")
    assert total == 25


async def test_enqueue_dedupes_a_waiting_event(services: Services, effects: None) -> None:
    [event_id] = await write_events(services, 1)
    await outbox.enqueue_events(services.jobs, [event_id, event_id, event_id])
    assert await services.jobs.depth() == 1
    await drain(services)
    assert await outbox.handle_event(services, event_id) == "skipped"


async def test_failed_handler_rolls_back_and_is_retried(services: Services, effects: None) -> None:
    [event_id] = await write_events(services, 1, FAILING_KIND)
    with pytest.raises(RuntimeError):
        await outbox.handle_event(services, event_id)
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM outbox_events WHERE id = $1", event_id)
        assert row["done_at"] is None and row["attempts"] == 1
        assert "first attempt fails" in row["last_error"]
        # The failed attempt's insert was rolled back with it.
        assert await conn.fetchval("SELECT count(*) FROM outbox_test_effects") == 0
    assert await outbox.handle_event(services, event_id) == "done"
    async with services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox_test_effects") == 1
        assert await conn.fetchval(
            "SELECT done_at IS NOT NULL FROM outbox_events WHERE id = $1", event_id
        )


async def test_unknown_kind_cannot_be_recorded(services: Services) -> None:
    async with services.pool.acquire() as conn:
        with pytest.raises(outbox.UnknownEventKind):
            await outbox.record_event(conn, "no.such.kind", {})
