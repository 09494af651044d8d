"""/admin/ (the dashboard), /admin/reports (list, one report: notes, resolve, reopen) and
/admin/audit (the audit log, admins). Plain forms that work without JavaScript; a form
that worked comes back to its page with `?saved=1`. Roles are checked in the domain:
these pages ask it, and a refusal is the error page's 403."""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Blueprint, Response, request

from stgy.domain import audit, dashboard, reports, roles
from stgy.domain.errors import DomainError, Invalid
from stgy.domain.roles import Staff
from stgy.http.validation import parse_cursor, parse_id
from stgy.web import context
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.post_pages import viewer_or_login
from stgy.web.rendering import go_to, render_page

bp = Blueprint("admin_reports", __name__, url_prefix="/admin")

PAGE = 30
AUDIT_FILTERS = ("actor", "action", "target_type", "target")


async def _staff(needed: str = roles.MODERATOR) -> Staff | Response:
    """The viewer as staff, the log-in page for nobody; Forbidden (403) for the others."""
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    return await roles.staff_of(context.services(), viewer, needed)


def _saved() -> bool:
    return request.args.get("saved") == "1"


# --- dashboard --------------------------------------------------------------------------


@bp.get("")
@bp.get("/")
async def dashboard_page() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    figures = await dashboard.figures(context.services(), staff)
    return await render_page("pages/admin/dashboard.html", section="", figures=figures)


# --- reports ----------------------------------------------------------------------------


@bp.get("/reports")
async def report_list() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    state = request.args.get("state") or "open"
    if state not in reports.STATES:
        raise Invalid("state", f"one of {', '.join(reports.STATES)}")
    found = await reports.list_reports(
        context.services(),
        staff,
        state=state,
        limit=PAGE,
        before=parse_cursor(request.args.get("until"), "until"),
    )
    return await render_page(
        "pages/admin/reports.html",
        section="reports",
        state=state,
        reports=found,
        older=found[-1].id if len(found) == PAGE else None,
    )


async def _report_page(
    staff: Staff, report_id: int, errors: FormErrors, form: str = "", status: int = 200
) -> Response:
    detail = await reports.get_report(context.services(), staff, report_id)
    return await render_page(
        "pages/admin/report.html",
        status=status,
        section="reports",
        detail=detail,
        report=detail.report,
        errors=errors,
        no_errors=FormErrors(),
        failed_form=form,
        saved=_saved() and status == 200,
    )


@bp.get("/reports/<report_id>")
async def report_page(report_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    return await _report_page(staff, parse_id(report_id, "report"), FormErrors())


async def _change(report_id: str, form: str) -> Response:
    """One of the report page's forms (note, resolve, reopen): back to the page, or the
    page again with the error by the form that was sent."""
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    number = parse_id(report_id, "report")
    text = (await request.form).get("body" if form == "note" else "comment", "")
    services = context.services()
    try:
        if form == "note":
            await reports.add_note(services, staff, number, text)
        elif form == "resolve":
            await reports.resolve(services, staff, number, text)
        else:
            await reports.reopen(services, staff, number, text)
    except DomainError as exc:
        if exc.status == 403 or exc.status == 404:
            raise
        return await _report_page(
            staff, number, form_errors(exc, ("body", "comment")), form, exc.status
        )
    return go_to(f"/admin/reports/{number}?saved=1")


@bp.post("/reports/<report_id>/notes")
async def add_note(report_id: str) -> Response:
    return await _change(report_id, "note")


@bp.post("/reports/<report_id>/resolve")
async def resolve(report_id: str) -> Response:
    return await _change(report_id, "resolve")


@bp.post("/reports/<report_id>/reopen")
async def reopen(report_id: str) -> Response:
    return await _change(report_id, "reopen")


# --- audit log --------------------------------------------------------------------------


@bp.get("/audit")
async def audit_page() -> Response:
    staff = await _staff(roles.ADMIN)
    if isinstance(staff, Response):
        return staff
    filters = {name: (request.args.get(name) or "").strip() for name in AUDIT_FILTERS}
    for name, value in filters.items():
        if len(value) > 200 or "\x00" in value:
            raise Invalid(name, "at most 200 characters")
    entries = await audit.entries(
        context.services(),
        staff,
        limit=PAGE,
        before=parse_cursor(request.args.get("until"), "until"),
        **filters,
    )
    kept = {name: value for name, value in filters.items() if value}
    older = None
    if len(entries) == PAGE:
        older = "/admin/audit?" + urlencode({**kept, "until": entries[-1].id})
    return await render_page(
        "pages/admin/audit.html",
        section="audit",
        entries=entries,
        filters=filters,
        no_errors=FormErrors(),
        older=older,
    )
