"""Post summaries for the agents: a summary, tags and an embedding of each new public post."""

from __future__ import annotations

import logging

from stgy.domain.agents import prompts
from stgy.domain.agents.model import Usage
from stgy.domain.agents.runtime import AgentRuntime, counted
from stgy.domain.agents.schemas import PostSummary
from stgy.domain.text import normalise_tag
from stgy.services import Services
from storage import agents as agents_sql

log = logging.getLogger("stgy.agents")

SUMMARIES = "summaries"  # the agent label of summary calls in /metrics
MAX_SUMMARY = 300
TEXT_LIMIT = 4000
# Posts older than this are not summarised any more (the agents read recent ones).
SUMMARY_MAX_AGE = 2 * 24 * 3600
SWEEP_LIMIT = 100


async def posts_to_summarise(services: Services) -> list[int]:
    async with services.pool.acquire() as conn:
        return await agents_sql.posts_to_summarise(
            conn, max_age_seconds=float(SUMMARY_MAX_AGE), limit=SWEEP_LIMIT
        )


async def _chat(runtime: AgentRuntime, system: str, text: str) -> tuple[PostSummary, Usage]:
    answer = await runtime.model.chat(
        system=system, user=text, schema=PostSummary, name="post_summary"
    )
    return answer.value, answer.usage


async def summarise_post(services: Services, runtime: AgentRuntime, post_id: int) -> str:
    """Summarise one post (none for a post gone, not public, or summarised already)."""
    async with services.pool.acquire() as conn:
        text = await agents_sql.summarisable_text(conn, post_id=post_id)
    if text is None or not text.strip():
        return "skipped"
    limit = services.config.ai.summary_tags
    system = prompts.fill("en", "summarise_system", tags_count=limit)
    summary = await counted(
        services,
        agent=SUMMARIES,
        account_id=None,
        step=f"summarise post={post_id}",
        call=_chat(runtime, system, text[:TEXT_LIMIT]),
    )
    tags: list[str] = []
    for tag in summary.tags:
        normal = normalise_tag(tag.strip().removeprefix("#"))
        if normal is not None and normal not in tags:
            tags.append(normal)
    brief = summary.summary.strip()[:MAX_SUMMARY]
    vectors = await counted(
        services,
        agent=SUMMARIES,
        account_id=None,
        step=f"embed post={post_id}",
        call=runtime.model.embed([f"{brief}\n{' '.join(tags)}\n{text[:TEXT_LIMIT]}"]),
    )
    async with services.pool.acquire() as conn:
        done = await agents_sql.insert_summary(
            conn, post_id=post_id, summary=brief, tags=tags[:limit], embedding=vectors[0]
        )
    return "summarised" if done else "skipped"
