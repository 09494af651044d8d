"""Jobs of the transactional outbox: apply one event; sweep for lost ones."""

from __future__ import annotations

from stgy.domain import outbox
from tasks.context import JobContext


async def handle_outbox_event(ctx: JobContext, *, event_id: int) -> str:
    return await outbox.handle_event(ctx["services"], event_id)


async def sweep_outbox(ctx: JobContext) -> int:
    services = ctx["services"]
    return await outbox.sweep(
        services, older_than_seconds=services.config.worker.outbox_retry_after
    )
