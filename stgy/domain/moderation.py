"""Admins' federation tools: list instances, read and resolve reports that other
instances sent (Flag). Blocking an instance is a domain block (stgy.domain.domain_blocks)."""

from __future__ import annotations

import re

from stgy.domain.errors import Invalid, NotFound
from stgy.services import Services
from storage import moderation as moderation_sql
from storage.moderation import InstanceRow, ReportRow

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


async def reports(services: Services, *, include_resolved: bool, limit: int) -> list[ReportRow]:
    async with services.pool.acquire() as conn:
        return await moderation_sql.list_reports(
            conn, include_resolved=include_resolved, limit=limit
        )


async def resolve_report(services: Services, report_id: int) -> None:
    async with services.pool.acquire() as conn:
        if not await moderation_sql.resolve_report(conn, report_id=report_id):
            raise NotFound(f"no open report {report_id}")
