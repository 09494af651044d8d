"""Job sending one rendered mail (retried with backoff; see stgy.jobs)."""

from __future__ import annotations

from stgy.domain import mail
from tasks.context import JobContext


async def send_mail(ctx: JobContext, *, message: str) -> str:
    return await mail.send(ctx["services"], message)
