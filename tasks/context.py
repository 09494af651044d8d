"""The typed context SAQ passes to every job."""

from __future__ import annotations

from saq.types import Context

from stgy.services import Services


class JobContext(Context, total=False):
    services: Services
    started: float
