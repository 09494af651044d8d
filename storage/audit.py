"""SQL for the audit log of moderation and admin actions (append-only, migration 0022)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Conn


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: datetime
    actor_account_id: int | None
    actor: str
    action: str
    target_type: str
    target: str
    comment: str
    details: dict[str, Any]


_COLUMNS = (
    "id, created_at, actor_account_id, actor, action, target_type, target, comment, details::text"
)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8])
    )


async def record(
    conn: Conn,
    *,
    actor_account_id: int | None,
    actor: str,
    action: str,
    target_type: str,
    target: str,
    comment: str,
    details: dict[str, Any],
) -> int:
    entry_id: int = await conn.fetchval(
        "INSERT INTO audit_log (actor_account_id, actor, action, target_type, target,"
        " comment, details) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id",
        actor_account_id,
        actor,
        action,
        target_type,
        target,
        comment,
        json.dumps(details),
    )
    return entry_id


async def entries(
    conn: Conn,
    *,
    limit: int,
    before: int | None,
    target_type: str | None = None,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """Newest first; `before` pages by id; optionally only of one target type, target
    (its id or name as written), actor (a handle, or 'cli'), or action: 'report.resolve',
    or 'report' for every 'report.…' action."""
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + " FROM audit_log"
        " WHERE ($2::bigint IS NULL OR id < $2)"
        " AND ($3::text IS NULL OR target_type = $3)"
        " AND ($4::text IS NULL OR target = $4)"
        " AND ($5::text IS NULL OR actor = $5)"
        " AND ($6::text IS NULL OR action = $6 OR starts_with(action, $6 || '.'))"
        " ORDER BY id DESC LIMIT $1",
        limit,
        before,
        target_type,
        target,
        actor,
        action,
    )
    return [_entry(row) for row in rows]
