"""Native API: reports. Anyone logged in reports an account (`POST /api/reports`);
moderators list, read, annotate, resolve and reopen them (`/api/admin/reports`). Roles
are checked in the domain (stgy/domain/roles.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.admin_overview import AuditEntryOut, audit_entry_json
from stgy.api.serializers import iso
from stgy.domain import reports, roles
from stgy.domain.errors import Invalid
from stgy.domain.reports import NewReport, Report, ReportDetail, ReportedPost, ReportNote
from stgy.http.context import require_viewer, services
from stgy.http.validation import (
    QueryModel,
    RequestModel,
    json_body,
    parse_cursor,
    parse_id,
    query,
    responds,
)

bp = Blueprint("reports", __name__, url_prefix="/api")

Category = Literal["spam", "illegal", "violation", "other"]


# --- shapes -----------------------------------------------------------------------------


class ReportIn(RequestModel):
    account_id: str = Field(description="the account reported")
    post_ids: list[str] = Field(
        default_factory=list,
        max_length=reports.MAX_POSTS,
        description="some of its posts (ids); each one the reporter can see",
    )
    category: Category = "other"
    rule_ids: list[str] = Field(
        default_factory=list,
        description="with `violation`: the ids of the instance's rules broken",
    )
    comment: str = Field(default="", description=f"at most {reports.MAX_COMMENT} characters")
    forward: bool = Field(
        default=False,
        description="also send the report to the account's instance (a remote account"
        " only), as a Flag from this instance that does not name the reporter",
    )


class ReportCreatedOut(BaseModel):
    id: str
    created_at: str
    account_id: str
    post_ids: list[str]
    category: Category
    rule_ids: list[str]
    comment: str
    forwarded: bool


class ReportAccountOut(BaseModel):
    id: str
    acct: str
    local: bool


class ReportReporterOut(BaseModel):
    id: str
    acct: str | None


class ReportOut(BaseModel):
    id: str
    created_at: str
    state: Literal["open", "resolved"]
    category: Category
    rule_ids: list[str]
    comment: str
    account: ReportAccountOut = Field(description="the account reported")
    reporter: ReportReporterOut | None = Field(
        description="who reported it: a local account, another instance's actor (`remote`),"
        " or null (the CLI, or an account deleted since)"
    )
    remote: bool = Field(description="sent by another instance (a Flag)")
    post_ids: list[str]
    forwarded_at: str | None
    resolved_at: str | None
    resolved_by: str | None = Field(description="the moderator's handle, or 'cli'")
    resolution: str


class ReportPageOut(BaseModel):
    reports: list[ReportOut]
    oldest: str | None = Field(description="pass as `until` for the next page")


class ReportedMediaOut(BaseModel):
    url: str | None
    preview_url: str | None
    content_type: str
    description: str


class ReportedPostOut(BaseModel):
    id: str
    ap_id: str
    url: str | None
    text: str = Field(description="the source as written (empty for most remote posts)")
    html: str
    summary: str
    sensitive: bool
    visibility: str
    media: list[ReportedMediaOut]
    created_at: str
    edited_at: str | None
    deleted_since: bool = Field(description="deleted after the report")
    edited_since: bool = Field(description="edited after the report")


class RuleOut(BaseModel):
    id: str
    text: str


class ReportNoteOut(BaseModel):
    id: str
    author: str = Field(description="the moderator's handle, or 'cli'")
    body: str
    created_at: str


class ReportDetailOut(ReportOut):
    posts: list[ReportedPostOut] = Field(description="the posts as they were when reported")
    rules: list[RuleOut] = Field(description="the rules named that still exist")
    notes: list[ReportNoteOut]
    log: list[AuditEntryOut] = Field(description="what staff did to this report, newest first")
    other_reports: list[ReportOut] = Field(description="about the same account, newest first")
    account_actions: list[AuditEntryOut] = Field(
        description="staff actions on the account (from the audit log), newest first"
    )


class ReportsQuery(QueryModel):
    state: Literal["open", "resolved", "all"] = "open"
    account_id: str | None = Field(default=None, description="only about this account")
    until: str | None = Field(default=None, description="only reports older than this id")
    limit: int = Field(default=50, ge=1, le=reports.MAX_PAGE)


class NoteIn(RequestModel):
    body: str = Field(description=f"at most {reports.MAX_NOTE} characters")


class CommentIn(RequestModel):
    comment: str = Field(default="", description=f"at most {reports.MAX_COMMENT} characters")


# --- JSON -------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    reporter = None
    if report.reporter_id is not None:
        reporter = {"id": str(report.reporter_id), "acct": report.reporter_acct}
    return {
        "id": str(report.id),
        "created_at": iso(report.created_at),
        "state": "open" if report.is_open else "resolved",
        "category": report.category,
        "rule_ids": [str(i) for i in report.rule_ids],
        "comment": report.comment,
        "account": {
            "id": str(report.target_id),
            "acct": report.target_acct,
            "local": report.target_local,
        },
        "reporter": reporter,
        "remote": report.remote,
        "post_ids": [str(i) for i in report.post_ids],
        "forwarded_at": iso(report.forwarded_at) if report.forwarded_at else None,
        "resolved_at": iso(report.resolved_at) if report.resolved_at else None,
        "resolved_by": (report.resolved_by or "cli") if report.resolved_at else None,
        "resolution": report.resolution,
    }


def _post_json(post: ReportedPost) -> dict[str, Any]:
    return {
        "id": str(post.post_id),
        "ap_id": post.ap_id,
        "url": post.url,
        "text": post.source,
        "html": post.html,
        "summary": post.summary,
        "sensitive": post.sensitive,
        "visibility": post.visibility,
        "media": [
            {
                "url": m.get("url"),
                "preview_url": m.get("preview_url"),
                "content_type": m.get("content_type") or "",
                "description": m.get("description") or "",
            }
            for m in post.media
        ],
        "created_at": iso(post.posted_at),
        "edited_at": iso(post.edited_at) if post.edited_at else None,
        "deleted_since": post.deleted_since,
        "edited_since": post.edited_since,
    }


def note_json(note: ReportNote) -> dict[str, Any]:
    return {
        "id": str(note.id),
        "author": note.author,
        "body": note.body,
        "created_at": iso(note.created_at),
    }


def detail_json(detail: ReportDetail) -> dict[str, Any]:
    return {
        **report_json(detail.report),
        "posts": [_post_json(p) for p in detail.posts],
        "rules": [{"id": str(r.id), "text": r.text} for r in detail.rules],
        "notes": [note_json(n) for n in detail.notes],
        "log": [audit_entry_json(e) for e in detail.log],
        "other_reports": [report_json(r) for r in detail.other_reports],
        "account_actions": [audit_entry_json(e) for e in detail.account_actions],
    }


def _ids(values: list[str], field: str) -> tuple[int, ...]:
    found = []
    for i, value in enumerate(values):
        parsed = parse_cursor(value, f"{field}.{i}")
        if not parsed:
            raise Invalid(f"{field}.{i}", "must be an id (a decimal string)")
        found.append(parsed)
    return tuple(found)


# --- routes -----------------------------------------------------------------------------


@bp.post("/reports")
@json_body(ReportIn)
@responds(ReportCreatedOut, 201)
@schemas.fails_with(400, 401, 404)
async def create_report(body: ReportIn) -> tuple[Response, int]:
    """Report an account (and some of its posts) to this instance's moderators."""
    viewer = await require_viewer()
    made = await reports.create_report(
        services(),
        viewer.account_id,
        NewReport(
            account_id=parse_id(body.account_id, "account"),
            post_ids=_ids(body.post_ids, "post_ids"),
            category=body.category,
            rule_ids=_ids(body.rule_ids, "rule_ids"),
            comment=body.comment,
            forward=body.forward,
        ),
    )
    return jsonify(
        {
            "id": str(made.id),
            "created_at": iso(made.created_at),
            "account_id": str(made.target_id),
            "post_ids": [str(i) for i in made.post_ids],
            "category": made.category,
            "rule_ids": [str(i) for i in made.rule_ids],
            "comment": made.comment,
            "forwarded": made.forwarded_at is not None,
        }
    ), 201


async def _staff() -> roles.Staff:
    return await roles.staff_of(services(), await require_viewer(), roles.MODERATOR)


@bp.get("/admin/reports")
@query(ReportsQuery)
@responds(ReportPageOut)
@schemas.fails_with(400, 401, 403)
async def list_reports(query: ReportsQuery) -> Response:
    """Reports, newest first (moderators)."""
    staff = await _staff()
    found = await reports.list_reports(
        services(),
        staff,
        state=query.state,
        limit=query.limit,
        before=parse_cursor(query.until, "until"),
        account_id=parse_cursor(query.account_id, "account_id"),
    )
    return jsonify(
        {
            "reports": [report_json(r) for r in found],
            "oldest": str(found[-1].id) if found else None,
        }
    )


@bp.get("/admin/reports/<report_id>")
@responds(ReportDetailOut)
@schemas.fails_with(401, 403, 404)
async def get_report(report_id: str) -> Response:
    """A report with its posts as reported, notes, and the account's history."""
    staff = await _staff()
    detail = await reports.get_report(services(), staff, parse_id(report_id, "report"))
    return jsonify(detail_json(detail))


@bp.post("/admin/reports/<report_id>/notes")
@json_body(NoteIn)
@responds(ReportNoteOut, 201)
@schemas.fails_with(400, 401, 403, 404)
async def add_note(report_id: str, body: NoteIn) -> tuple[Response, int]:
    """A note for the other moderators."""
    staff = await _staff()
    note = await reports.add_note(services(), staff, parse_id(report_id, "report"), body.body)
    return jsonify(note_json(note)), 201


@bp.post("/admin/reports/<report_id>/resolve")
@json_body(CommentIn)
@responds(ReportOut)
@schemas.fails_with(400, 401, 403, 404, 409)
async def resolve_report(report_id: str, body: CommentIn) -> Response:
    """Mark an open report resolved, with a comment (acting on the account is separate)."""
    staff = await _staff()
    done = await reports.resolve(services(), staff, parse_id(report_id, "report"), body.comment)
    return jsonify(report_json(done))


@bp.post("/admin/reports/<report_id>/reopen")
@json_body(CommentIn)
@responds(ReportOut)
@schemas.fails_with(400, 401, 403, 404, 409)
async def reopen_report(report_id: str, body: CommentIn) -> Response:
    """Open a resolved report again."""
    staff = await _staff()
    done = await reports.reopen(services(), staff, parse_id(report_id, "report"), body.comment)
    return jsonify(report_json(done))
