"""Job sending one rendered mail (retried with backoff; see stgy.jobs)."""

from __future__ import annotations

from stgy.domain import mail
from tasks.context import JobContext


async def send_mail(ctx: JobContext, *, sealed: str) -> str:
    return await mail.send_sealed(ctx["services"], sealed)
