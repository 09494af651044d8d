"""The job of the transactional outbox: apply one event (tasks/recovery.py sweeps)."""

from __future__ import annotations

from stgy.domain.jobs import outbox
from tasks.context import JobContext


async def handle_outbox_event(ctx: JobContext, *, event_id: int) -> str:
    return await outbox.handle_event(ctx["services"], event_id)
