"""Cron job for home timelines: trim each to its newest entries."""

from __future__ import annotations

from stgy.domain import timelines
from tasks.context import JobContext


async def trim_timelines(ctx: JobContext) -> int:
    return await timelines.trim_home_timelines(ctx["services"])
