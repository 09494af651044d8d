"""Moderation jobs: a suspended account's Delete after its grace period, and the sweep."""

from __future__ import annotations

from stgy.domain import account_actions
from tasks.context import JobContext


async def announce_suspension(ctx: JobContext, *, account_id: int) -> bool:
    return await account_actions.announce_suspension(ctx["services"], account_id)


async def moderation_sweep(ctx: JobContext) -> str:
    announced, purged = await account_actions.sweep(ctx["services"])
    return f"announced={announced} purged={purged}"
