"""The job of the transactional outbox: apply one event (tasks/recovery.py sweeps)."""

from __future__ import annotations

from stgy import metrics
from stgy.domain.jobs import outbox
from stgy.jobs import HANDLE_OUTBOX_EVENT
from tasks.context import JobContext


async def handle_outbox_event(ctx: JobContext, *, event_id: int) -> str:
    outcome = await outbox.handle_event(ctx["services"], event_id)
    if outcome == outbox.DEAD_LETTERED:
        # The job itself completes (no SAQ retry): counted apart from jobs that are done.
        metrics.JOBS.labels(HANDLE_OUTBOX_EVENT, outcome).inc()
    return outcome
