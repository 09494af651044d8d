"""Native API: the audit log (`/api/admin/audit`, admins) and the dashboard's figures
(`/api/admin/dashboard`, moderators)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.serializers import iso
from stgy.domain import audit, dashboard, roles
from stgy.domain.audit import AuditEntry
from stgy.http.context import require_viewer, services
from stgy.http.validation import QueryModel, parse_cursor, query, responds

bp = Blueprint("admin_overview", __name__, url_prefix="/api/admin")


class AuditEntryOut(BaseModel):
    id: str
    created_at: str
    actor: str = Field(description="the handle of who acted, or 'cli'")
    actor_account_id: str | None
    action: str = Field(description="e.g. report.resolve, account.suspend")
    target_type: str = Field(description="account, report, domain, instance...")
    target: str = Field(description="the target's id or name")
    comment: str
    details: dict[str, Any]


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    oldest: str | None = Field(description="pass as `until` for the next page")


class AuditQuery(QueryModel):
    actor: str | None = Field(default=None, description="a handle, or cli")
    action: str | None = Field(
        default=None, description="an action, or its group: `report` for every report.…"
    )
    target_type: str | None = None
    target: str | None = Field(default=None, description="a target's id or name")
    until: str | None = Field(default=None, description="only entries older than this id")
    limit: int = Field(default=50, ge=1, le=audit.MAX_PAGE)


class DashboardOut(BaseModel):
    users: int = Field(description="approved, live local accounts")
    active_month: int = Field(description="of them, logged in or posted in 30 days")
    local_posts: int
    open_reports: int
    queue_depth: int | None = Field(description="jobs waiting; null when Redis did not answer")
    outbox_pending: int = Field(description="outbox events not applied yet")
    outbox_oldest_seconds: float
    instances_failing: int = Field(description="instances whose latest deliveries failed")
    instances_unavailable: int = Field(description="instances skipped until they answer")


def audit_entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "created_at": iso(entry.created_at),
        "actor": entry.actor,
        "actor_account_id": (
            str(entry.actor_account_id) if entry.actor_account_id is not None else None
        ),
        "action": entry.action,
        "target_type": entry.target_type,
        "target": entry.target,
        "comment": entry.comment,
        "details": entry.details,
    }


@bp.get("/audit")
@query(AuditQuery)
@responds(AuditPageOut)
@schemas.fails_with(400, 401, 403)
async def audit_log(query: AuditQuery) -> Response:
    """Every moderation and admin action, newest first (admins)."""
    staff = await roles.staff_of(services(), await require_viewer(), roles.ADMIN)
    found = await audit.entries(
        services(),
        staff,
        limit=query.limit,
        before=parse_cursor(query.until, "until"),
        target_type=query.target_type,
        target=query.target,
        actor=query.actor,
        action=query.action,
    )
    return jsonify(
        {
            "entries": [audit_entry_json(e) for e in found],
            "oldest": str(found[-1].id) if found else None,
        }
    )


@bp.get("/dashboard")
@responds(DashboardOut)
@schemas.fails_with(401, 403)
async def dashboard_figures() -> Response:
    """The instance at a glance (moderators)."""
    staff = await roles.staff_of(services(), await require_viewer(), roles.MODERATOR)
    found = await dashboard.figures(services(), staff)
    return jsonify(
        {
            "users": found.users,
            "active_month": found.active_month,
            "local_posts": found.local_posts,
            "open_reports": found.open_reports,
            "queue_depth": found.queue_depth,
            "outbox_pending": found.outbox_pending,
            "outbox_oldest_seconds": found.outbox_oldest_seconds,
            "instances_failing": found.instances_failing,
            "instances_unavailable": found.instances_unavailable,
        }
    )
