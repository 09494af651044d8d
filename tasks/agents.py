"""AI agent jobs, on the agents queue: run one agent, summarise one post, and the cron
that enqueues both (see stgy.jobs for their settings, docs/agents.md for the rest)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from stgy.jobs import RUN_AGENT, SUMMARISE_POST, agent_job_key
from tasks.context import JobContext

if TYPE_CHECKING:
    from stgy.domain.agents.runtime import AgentRuntime

# The agents' code (and pydantic, which its model answers are checked with) is imported
# by the jobs themselves: a worker of an instance without [ai] never loads it.

log = logging.getLogger("stgy.agents")


def _runtime(ctx: JobContext) -> AgentRuntime:
    from stgy.domain.agents.runtime import AgentRuntime

    runtime = ctx.get("agents")
    if runtime is None:
        runtime = ctx["agents"] = AgentRuntime.make(ctx["services"].config)
    return runtime


async def run_agent(ctx: JobContext, *, account_id: int) -> str:
    """One run; a step without a usable answer raises, so SAQ tries again later."""
    services = ctx["services"]
    if not services.config.ai.enabled:
        return "ai off"
    from stgy.domain.agents.run import run_agent as drive_agent
    from stgy.domain.agents.runtime import yield_to_urgent

    await yield_to_urgent(services)
    report = await drive_agent(services, _runtime(ctx), account_id)
    return "; ".join(report.did + report.skipped) or "nothing to do"


async def summarise_post(ctx: JobContext, *, post_id: int) -> str:
    services = ctx["services"]
    if not services.config.ai.enabled:
        return "ai off"
    from stgy.domain.agents import summaries
    from stgy.domain.agents.runtime import yield_to_urgent

    await yield_to_urgent(services)
    return await summaries.summarise_post(services, _runtime(ctx), post_id)


async def schedule_agents(ctx: JobContext) -> int:
    """Cron: enqueue the runs that are due and the summaries not made yet."""
    services = ctx["services"]
    if not services.config.ai.enabled:
        return 0
    from stgy.domain.agents import manage, summaries

    enqueued = 0
    for account_id in await manage.schedule_due(services):
        enqueued += await services.jobs.enqueue(
            RUN_AGENT, key=agent_job_key(RUN_AGENT, account_id), account_id=account_id
        )
    for post_id in await summaries.posts_to_summarise(services):
        enqueued += await services.jobs.enqueue(
            SUMMARISE_POST, key=agent_job_key(SUMMARISE_POST, post_id), post_id=post_id
        )
    return enqueued
