"""SQL for admins' federation tools: the instances we know and the reports we got."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class InstanceRow:
    domain: str
    blocked: bool
    failures: int
    last_success_at: datetime | None
    unavailable_since: datetime | None
    signature_scheme: str | None
    accounts: int  # remote accounts of this domain we know


@dataclass(frozen=True)
class ReportRow:
    id: int
    reporter: str | None  # the reporting actor's id
    target: str  # acct of the reported account
    post_ids: list[int]
    comment: str
    created_at: datetime
    resolved_at: datetime | None


async def list_instances(
    conn: Conn, *, only_blocked: bool, only_unavailable: bool, limit: int
) -> list[InstanceRow]:
    rows = await conn.fetch(
        "SELECT i.domain, i.blocked, i.failures, i.last_success_at, i.unavailable_since,"
        " i.signature_scheme,"
        " (SELECT count(*) FROM accounts a WHERE a.domain = i.domain) AS accounts"
        " FROM instances i WHERE (NOT $1 OR i.blocked)"
        " AND (NOT $2 OR i.unavailable_since IS NOT NULL) ORDER BY i.domain LIMIT $3",
        only_blocked,
        only_unavailable,
        limit,
    )
    return [InstanceRow(*row) for row in rows]


async def list_reports(conn: Conn, *, include_resolved: bool, limit: int) -> list[ReportRow]:
    rows = await conn.fetch(
        "SELECT r.id, ra.ap_id, CASE WHEN t.domain IS NULL THEN t.handle"
        " ELSE t.handle || '@' || t.domain END, r.post_ids, r.comment, r.created_at,"
        " r.resolved_at FROM reports r JOIN accounts t ON t.id = r.target_account_id"
        " LEFT JOIN accounts ra ON ra.id = r.reporter_id"
        " WHERE $1 OR r.resolved_at IS NULL ORDER BY r.id DESC LIMIT $2",
        include_resolved,
        limit,
    )
    return [ReportRow(*row) for row in rows]


async def resolve_report(conn: Conn, *, report_id: int) -> bool:
    """Mark a report resolved; False when there is no such open report."""
    found = await conn.fetchval(
        "UPDATE reports SET resolved_at = now() WHERE id = $1 AND resolved_at IS NULL RETURNING id",
        report_id,
    )
    return found is not None
