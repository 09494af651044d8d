"""The SAQ worker: which functions it runs, cron jobs, start-up and per-job logs/metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from saq import CronJob, Worker

from stgy import metrics
from stgy.config import Config
from stgy.domain import (
    events,  # noqa: F401 - registers the outbox handlers
)
from stgy.domain.jobs import durable_jobs
from stgy.domain.jobs.relay import OutboxRelay
from stgy.jobs import (
    AGENTS_QUEUE,
    DEFAULT_QUEUE,
    JOBS,
    MODERATION_SWEEP,
    PROBE_INSTANCES,
    QUEUES,
    SCHEDULE_AGENTS,
    SWEEP_MEDIA,
    TRIM_TIMELINES,
)
from stgy.logs import quote
from stgy.runtime import tune_gc
from stgy.services import Services
from tasks.agents import run_agent, schedule_agents, summarise_post
from tasks.context import JobContext
from tasks.delivery import deliver_activity, probe_instances
from tasks.fetch import backfill_outbox, fetch_context, refresh_remote_account
from tasks.mail import send_mail
from tasks.media import cache_remote_media, process_media, sweep_media
from tasks.moderation import announce_suspension, moderation_sweep
from tasks.outbox import handle_outbox_event
from tasks.recovery import RecoveryLoop
from tasks.timelines import trim_timelines

log = logging.getLogger("stgy.jobs")


class OutageTolerantWorker(Worker[JobContext]):
    """SAQ's worker, quiet and steady while Redis cannot be reached.

    Its cron scheduling (every second) skips its turn instead of logging a traceback
    each time: the queue's dequeue logs the outage once
    (stgy.services.BackingOffRedisQueue), and cron jobs due meanwhile are enqueued
    at their next time once Redis is back. A job that ends while Redis is away
    cannot be marked done or queued for retry; SAQ let that error escape its
    process task ("Task exception was never retrieved"), here it is one line.
    """

    async def schedule(self, lock: int = 1) -> None:
        with contextlib.suppress(RedisConnectionError, OSError):
            await super().schedule(lock)

    async def process(self) -> bool:
        try:
            return await super().process()
        except (RedisConnectionError, OSError) as exc:
            # The job stays where Redis had it: swept and retried by SAQ if Redis kept
            # it, re-enqueued by the outbox sweeper if it was an outbox event's.
            log.warning("job_state_not_saved error=%s", quote(f"{type(exc).__name__}: {exc}"))
            return True


FUNCTIONS: list[Callable[..., Awaitable[Any]]] = [
    deliver_activity,
    handle_outbox_event,
    probe_instances,
    send_mail,
    trim_timelines,
    backfill_outbox,
    fetch_context,
    refresh_remote_account,
    process_media,
    cache_remote_media,
    sweep_media,
    announce_suspension,
    moderation_sweep,
]
# The agents queue's jobs: model calls take seconds, so they never wait in line
# with fan-out and delivery (`stgy worker --queues default` leaves them out).
AGENT_FUNCTIONS: list[Callable[..., Awaitable[Any]]] = [run_agent, schedule_agents, summarise_post]
# Agents whose run is due, and posts to summarise, are looked for every minute.
SCHEDULE_AGENTS_CRON = "* * * * *"
# Home timelines are trimmed to their newest entries every ten minutes.
TRIM_TIMELINES_CRON = "*/10 * * * *"
# Instances skipped as unavailable are asked every half hour whether they are back.
PROBE_INSTANCES_CRON = "*/30 * * * *"
# Unattached media go a day after upload; checked every quarter of an hour.
SWEEP_MEDIA_CRON = "*/15 * * * *"
# Suspensions to announce (lost jobs) and to purge, every minute.
MODERATION_SWEEP_CRON = "* * * * *"


def _check_functions() -> None:
    missing = {f.__name__ for f in FUNCTIONS + AGENT_FUNCTIONS} ^ set(JOBS)
    wrong = {f.__name__ for f in AGENT_FUNCTIONS if JOBS[f.__name__].queue != AGENTS_QUEUE}
    if missing or wrong:
        raise RuntimeError(f"jobs and worker functions disagree: {sorted(missing | wrong)}")


def _log_job(ctx: JobContext) -> None:
    job = ctx["job"]
    elapsed = time.perf_counter() - ctx.get("started", time.perf_counter())
    outcome = job.status.value if hasattr(job.status, "value") else str(job.status)
    if outcome == "queued":
        outcome = "retry"
    metrics.JOBS.labels(job.function, outcome).inc()
    metrics.JOB_SECONDS.labels(job.function).observe(elapsed)
    error = ctx.get("exception")
    log.info(
        "job=%s key=%s outcome=%s attempt=%d ms=%.1f%s",
        job.function,
        quote(job.key),
        outcome,
        job.attempts,
        elapsed * 1000,
        f" error={repr(error)[:300]!r}" if error else "",
    )


def make_agents_worker(
    services: Services, *, shared: bool = False, **options: Any
) -> OutageTolerantWorker:
    """A worker on the agents queue (AI agent runs and post summaries); `shared`: in the
    same process as the default queue's worker, it runs one job at a time, so that its
    work (CPU between model calls) delays fan-out and delivery the least."""
    _check_functions()
    schedule = JOBS[SCHEDULE_AGENTS]

    async def startup(ctx: JobContext) -> None:
        ctx["services"] = services

    async def shutdown(ctx: JobContext) -> None:
        runtime = ctx.get("agents")
        if runtime is not None:
            await runtime.aclose()

    async def before_process(ctx: JobContext) -> None:
        ctx["started"] = time.perf_counter()

    async def after_process(ctx: JobContext) -> None:
        _log_job(ctx)

    return OutageTolerantWorker(
        services.jobs.queues[AGENTS_QUEUE],
        functions=AGENT_FUNCTIONS,
        concurrency=1
        if shared
        else max(1, min(services.config.worker.concurrency, services.config.ai.concurrency)),
        cron_jobs=[
            CronJob(
                schedule_agents,
                cron=SCHEDULE_AGENTS_CRON,
                timeout=schedule.timeout,
                retries=schedule.retries,
                ttl=schedule.ttl,
            )
        ],
        startup=startup,
        shutdown=shutdown,
        before_process=before_process,
        after_process=after_process,
        cancellation_hard_deadline_s=5.0,
        **options,
    )


def make_worker(services: Services, **options: Any) -> OutageTolerantWorker:
    """A worker on the services' queue; the caller owns (starts and closes) the services."""
    config = services.config
    _check_functions()

    relay = OutboxRelay(services)
    recovery: list[RecoveryLoop] = []

    async def startup(ctx: JobContext) -> None:
        ctx["services"] = services
        # Before the first job is taken, so a burst worker sees what waits.
        await relay.start()
        loop = RecoveryLoop(services, str(worker.id))
        await loop.start()
        recovery.append(loop)
        tune_gc()

    async def shutdown(ctx: JobContext) -> None:
        for loop in recovery:
            await loop.stop()
        await relay.stop()

    async def before_process(ctx: JobContext) -> None:
        ctx["started"] = time.perf_counter()

    async def after_process(ctx: JobContext) -> None:
        job = ctx["job"]
        outcome = job.status.value if hasattr(job.status, "value") else str(job.status)
        if outcome in ("complete", "failed", "aborted"):
            # Run to an end: a delivery's or mail's record goes (stgy.domain.jobs.durable_jobs).
            try:
                await durable_jobs.forget(services, job.function, job.key)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # The record stays and the job runs once more later: at least once.
                log.warning("job=%s key=%s forget_failed=%r", job.function, quote(job.key), exc)
        _log_job(ctx)

    trim = JOBS[TRIM_TIMELINES]
    probe = JOBS[PROBE_INSTANCES]
    media_sweep = JOBS[SWEEP_MEDIA]
    moderation = JOBS[MODERATION_SWEEP]
    worker = OutageTolerantWorker(
        services.jobs.saq,
        functions=FUNCTIONS,
        concurrency=config.worker.concurrency,
        cron_jobs=[
            CronJob(
                trim_timelines,
                cron=TRIM_TIMELINES_CRON,
                timeout=trim.timeout,
                retries=trim.retries,
                ttl=trim.ttl,
            ),
            CronJob(
                probe_instances,
                cron=PROBE_INSTANCES_CRON,
                timeout=probe.timeout,
                retries=probe.retries,
                ttl=probe.ttl,
            ),
            CronJob(
                sweep_media,
                cron=SWEEP_MEDIA_CRON,
                timeout=media_sweep.timeout,
                retries=media_sweep.retries,
                ttl=media_sweep.ttl,
            ),
            CronJob(
                moderation_sweep,
                cron=MODERATION_SWEEP_CRON,
                timeout=moderation.timeout,
                retries=moderation.retries,
                ttl=moderation.ttl,
            ),
        ],
        startup=startup,
        shutdown=shutdown,
        before_process=before_process,
        after_process=after_process,
        # SAQ's grace period also waits on its never-ending poll loops, so it would
        # always run out: stop at once; a cancelled job is retried (jobs are idempotent).
        cancellation_hard_deadline_s=5.0,
        **options,
    )
    return worker


async def run_worker(config: Config, queues: tuple[str, ...] = QUEUES) -> None:
    """Run a worker on each of these queues until SIGINT/SIGTERM, then finish running
    jobs and close connections."""
    services = await Services.start(config)
    try:
        workers = []
        if DEFAULT_QUEUE in queues:
            workers.append(make_worker(services))
        if AGENTS_QUEUE in queues:
            workers.append(make_agents_worker(services, shared=DEFAULT_QUEUE in queues))
        for worker in workers:
            log.info("worker_start queue=%s concurrency=%d", worker.queue.name, worker.concurrency)
        # SAQ's worker takes SIGINT/SIGTERM for itself (one handler per signal and loop):
        # the first worker has them, and stops the others when it stops.
        first, *others = workers
        for worker in others:
            worker.SIGNALS = []
        running = [asyncio.create_task(worker.start()) for worker in others]
        try:
            await first.start()
        finally:
            for worker in others:
                await worker.stop()
            await asyncio.gather(*running, return_exceptions=True)
    finally:
        await services.close()
