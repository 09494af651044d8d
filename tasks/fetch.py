"""Jobs fetching from other servers: outbox backfill, a thread's missing posts, and
refreshing a remote account's actor document (see stgy.jobs for their settings)."""

from __future__ import annotations

from stgy.domain.remote import backfill, context_fetch, resolve
from tasks.context import JobContext


async def backfill_outbox(ctx: JobContext, *, account_id: int) -> int:
    return await backfill.backfill_outbox(ctx["services"], account_id)


async def fetch_context(ctx: JobContext, *, post_id: int) -> list[int]:
    return list(await context_fetch.fetch_context(ctx["services"], post_id))


async def refresh_remote_account(ctx: JobContext, *, account_id: int) -> str:
    return await resolve.refresh_account(ctx["services"], account_id)
