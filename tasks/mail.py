"""Job sending one rendered mail (retried with backoff; see stgy.jobs)."""

from __future__ import annotations

from stgy.domain.mail import messages
from tasks.context import JobContext


async def send_mail(ctx: JobContext, *, sealed: str) -> str:
    return await messages.send_sealed(ctx["services"], sealed)
