"""The SAQ worker: which functions it runs, cron jobs, start-up and per-job logs/metrics."""

from __future__ import annotations

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
from stgy.jobs import JOBS, PROBE_INSTANCES, SWEEP_MEDIA, TRIM_TIMELINES
from stgy.logs import quote
from stgy.runtime import tune_gc
from stgy.services import Services
from tasks.context import JobContext
from tasks.delivery import deliver_activity, probe_instances
from tasks.fetch import backfill_outbox, fetch_context, refresh_remote_account
from tasks.mail import send_mail
from tasks.media import cache_remote_media, process_media, sweep_media
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
]
# Home timelines are trimmed to their newest entries every ten minutes.
TRIM_TIMELINES_CRON = "*/10 * * * *"
# Instances skipped as unavailable are asked every half hour whether they are back.
PROBE_INSTANCES_CRON = "*/30 * * * *"
# Unattached media go a day after upload; checked every quarter of an hour.
SWEEP_MEDIA_CRON = "*/15 * * * *"


def make_worker(services: Services, **options: Any) -> OutageTolerantWorker:
    """A worker on the services' queue; the caller owns (starts and closes) the services."""
    config = services.config
    missing = {f.__name__ for f in FUNCTIONS} ^ set(JOBS)
    if missing:
        raise RuntimeError(f"jobs and worker functions disagree: {sorted(missing)}")

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
        elapsed = time.perf_counter() - ctx.get("started", time.perf_counter())
        outcome = job.status.value if hasattr(job.status, "value") else str(job.status)
        if outcome == "queued":
            outcome = "retry"
        if outcome in ("complete", "failed", "aborted"):
            # Run to an end: a delivery's or mail's record goes (stgy.domain.jobs.durable_jobs).
            try:
                await durable_jobs.forget(services, job.function, job.key)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # The record stays and the job runs once more later: at least once.
                log.warning("job=%s key=%s forget_failed=%r", job.function, quote(job.key), exc)
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

    trim = JOBS[TRIM_TIMELINES]
    probe = JOBS[PROBE_INSTANCES]
    media_sweep = JOBS[SWEEP_MEDIA]
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


async def run_worker(config: Config) -> None:
    """Run a worker until SIGINT/SIGTERM, then finish running jobs and close connections."""
    services = await Services.start(config)
    try:
        worker = make_worker(services)
        log.info("worker_start queue=%s concurrency=%d", services.jobs.name, worker.concurrency)
        await worker.start()
    finally:
        await services.close()
