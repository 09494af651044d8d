"""Admins' federation tools: list instances. Blocking one is a domain block
(stgy/domain/domain_blocks.py); reports, theirs and ours: stgy/domain/reports.py."""

from __future__ import annotations

import re

from stgy.domain.errors import Invalid
from stgy.services import Services
from storage import moderation as moderation_sql
from storage.moderation import InstanceRow

# host[:port], lowercase letters, digits, dots and dashes: what `instances.domain` holds.
_DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def check_domain(domain: str) -> str:
    clean = domain.strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(clean):
        raise Invalid("domain", f"not a host name (with an optional port): {domain!r}")
    return clean


async def instances(
    services: Services, *, only_blocked: bool, only_unavailable: bool, limit: int
) -> list[InstanceRow]:
    async with services.pool.acquire() as conn:
        return await moderation_sql.list_instances(
            conn, only_blocked=only_blocked, only_unavailable=only_unavailable, limit=limit
        )
