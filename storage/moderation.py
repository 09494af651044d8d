"""SQL for admins' federation tools: the instances we know."""

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
