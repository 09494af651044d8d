"""The typed context SAQ passes to every job."""

from __future__ import annotations

from saq.types import Context

from stgy.domain.agents.runtime import AgentRuntime
from stgy.services import Services


class JobContext(Context, total=False):
    services: Services
    started: float
    agents: AgentRuntime  # on the agents queue: the model client and embedding window
