"""Cron job for home and list timelines: trim each to its newest entries."""

from __future__ import annotations

from stgy.domain import timelines
from tasks.context import JobContext


async def trim_timelines(ctx: JobContext) -> int:
    services = ctx["services"]
    homes = await timelines.trim_home_timelines(services)
    return homes + await timelines.trim_list_timelines(services)
