"""What a process driving agents keeps: the model client, the embedding window, and the
accounting of every model call (counters in PostgreSQL and in /metrics)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from stgy import metrics
from stgy.config import Config
from stgy.domain.agents.model import ModelClient, ModelError, Usage
from stgy.domain.agents.ranking import EmbeddingWindow
from stgy.logs import quote
from stgy.services import Services
from storage import agents as agents_sql

log = logging.getLogger("stgy.agents")

T = TypeVar("T")


class StepFailed(Exception):
    """A step of an agent's run (or a summary) got no usable answer; nothing was done."""

    def __init__(self, agent: str, step: str, error: ModelError) -> None:
        super().__init__(f"agent={agent} step={step} {error}")
        self.agent = agent
        self.step = step
        self.error = error


@dataclass
class AgentRuntime:
    model: ModelClient
    window: EmbeddingWindow

    @classmethod
    def make(cls, config: Config) -> AgentRuntime:
        return cls(ModelClient(config.ai), EmbeddingWindow(config.ai.window_posts))

    async def aclose(self) -> None:
        await self.model.aclose()


async def counted(
    services: Services,
    *,
    agent: str,
    account_id: int | None,
    step: str,
    call: Awaitable[tuple[T, Usage]],
) -> T:
    """Run one model call, counting it (and its tokens) for the agent, or for the
    summaries when `account_id` is None; a failure is logged with the agent and the
    step and raised as StepFailed."""
    try:
        value, usage = await call
    except ModelError as exc:
        metrics.AGENT_CALLS.labels(agent, exc.kind).inc()
        log.warning(
            "agent_step_failed agent=%s step=%s kind=%s detail=%s",
            agent,
            step,
            exc.kind,
            quote(exc.detail[:300]),
        )
        if account_id is not None:
            async with services.pool.acquire() as conn:
                await agents_sql.add_usage(
                    conn, account_id=account_id, calls=1, prompt_tokens=0, completion_tokens=0
                )
                await agents_sql.record_failure(
                    conn, account_id=account_id, error=f"{step}: {exc}"[:500]
                )
        raise StepFailed(agent, step, exc) from None
    metrics.AGENT_CALLS.labels(agent, "ok").inc()
    metrics.AGENT_TOKENS.labels(agent, "prompt").inc(usage.prompt_tokens)
    metrics.AGENT_TOKENS.labels(agent, "completion").inc(usage.completion_tokens)
    if account_id is not None:
        async with services.pool.acquire() as conn:
            await agents_sql.add_usage(
                conn,
                account_id=account_id,
                calls=1,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
            )
    return value
