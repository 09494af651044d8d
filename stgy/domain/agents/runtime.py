"""What a process driving agents keeps: the model client, the embedding window, and the
accounting of every model call (counters in PostgreSQL and in /metrics)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from redis.exceptions import RedisError

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


# Agents' work is of a lower priority than fan-out and delivery: before each job and
# each model call it waits while the default queue has jobs waiting or running (looking
# every URGENT_POLL seconds, one Redis round trip), at most URGENT_MAX_WAIT seconds each
# time, so that it is never starved but its CPU (and PostgreSQL's) goes to that work.
URGENT_POLL = 0.02
URGENT_MAX_WAIT = 2.0


async def yield_to_urgent(services: Services, max_wait: float | None = None) -> float:
    """Wait while the default queue is busy, at most `max_wait` seconds (URGENT_MAX_WAIT
    by default); the seconds waited. A Redis that does not answer is no reason to wait."""
    started = time.monotonic()
    deadline = started + (URGENT_MAX_WAIT if max_wait is None else max_wait)
    try:
        # Polling: the queue's state is in Redis, written by other processes.
        while time.monotonic() < deadline and await services.jobs.busy():  # noqa: ASYNC110
            await asyncio.sleep(URGENT_POLL)
    except (RedisError, OSError):
        pass
    return time.monotonic() - started


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
        await yield_to_urgent(services)
    except BaseException:
        if inspect.iscoroutine(call):
            call.close()  # cancelled while waiting: the call was never started
        raise
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
