"""Job delivering one activity to one inbox (retried with backoff; see stgy.jobs)."""

from __future__ import annotations

from stgy.domain.remote import delivery
from tasks.context import JobContext


async def deliver_activity(
    ctx: JobContext, *, sender_id: int, inbox_url: str, activity_id: str, body: str
) -> str:
    return await delivery.deliver_activity(
        ctx["services"],
        sender_id=sender_id,
        inbox_url=inbox_url,
        activity_id=activity_id,
        body=body,
    )


async def probe_instances(ctx: JobContext) -> int:
    """Cron: ask unavailable instances whether they answer again."""
    return await delivery.probe_unavailable_instances(ctx["services"])
