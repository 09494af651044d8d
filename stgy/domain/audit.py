"""The audit log: every moderation and admin action writes who, what, target, when and
why, in the same transaction as the action (so there is no action without its row, nor
the reverse). Append-only (migration 0022). Admins read it."""

from __future__ import annotations

from typing import Any

from stgy.domain import roles
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import audit as audit_sql
from storage.audit import AuditEntry
from storage.db import Conn

__all__ = ["AuditEntry", "entries", "record"]

MAX_PAGE = 200


async def record(
    conn: Conn,
    staff: Staff,
    action: str,
    target_type: str,
    target: str | int,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> int:
    """Write the row of `action` (e.g. "account.suspend") on `target`, inside the caller's
    transaction."""
    return await audit_sql.record(
        conn,
        actor_account_id=staff.account_id,
        actor=staff.handle,
        action=action,
        target_type=target_type,
        target=str(target),
        comment=comment,
        details=details or {},
    )


async def entries(
    services: Services,
    staff: Staff,
    *,
    limit: int = 50,
    before: int | None = None,
    target_type: str | None = None,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """The log, newest first (admins only), optionally filtered (storage.audit.entries)."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn:
        return await audit_sql.entries(
            conn,
            limit=max(1, min(limit, MAX_PAGE)),
            before=before,
            target_type=target_type or None,
            target=target or None,
            actor=actor or None,
            action=action or None,
        )
