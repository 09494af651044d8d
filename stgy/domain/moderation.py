"""Admins' federation tools: block and unblock instances, list them. (Reports, theirs
and ours: stgy/domain/reports.py.)"""

from __future__ import annotations

import re

from stgy.domain.errors import Invalid
from stgy.domain.remote.delivery import forget_instance
from stgy.services import Services
from storage import inbox as inbox_sql
from storage import moderation as moderation_sql
from storage.moderation import InstanceRow

# host[:port], lowercase letters, digits, dots and dashes: what `instances.domain` holds.
_DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def check_domain(domain: str) -> str:
    clean = domain.strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(clean):
        raise Invalid("domain", f"not a host name (with an optional port): {domain!r}")
    return clean


async def set_blocked(services: Services, domain: str, *, blocked: bool) -> str:
    """Block (or unblock) an instance and the domains below it: its activities are
    refused (403) and nothing is delivered to it."""
    clean = check_domain(domain)
    async with services.pool.acquire() as conn:
        await inbox_sql.set_blocked(conn, domain=clean, blocked=blocked)
    forget_instance(clean)
    return clean


async def instances(
    services: Services, *, only_blocked: bool, only_unavailable: bool, limit: int
) -> list[InstanceRow]:
    async with services.pool.acquire() as conn:
        return await moderation_sql.list_instances(
            conn, only_blocked=only_blocked, only_unavailable=only_unavailable, limit=limit
        )
