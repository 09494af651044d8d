"""The typed context SAQ passes to every job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from saq.types import Context

from stgy.services import Services

if TYPE_CHECKING:  # imported by the agents' jobs only (tasks/agents.py)
    from stgy.domain.agents.runtime import AgentRuntime


class JobContext(Context, total=False):
    services: Services
    started: float
    agents: AgentRuntime  # on the agents queue: the model client and embedding window
