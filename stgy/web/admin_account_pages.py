"""/admin/accounts, /admin/accounts/<id>, /admin/applicants, /admin/roles: moderators find
accounts and act on them, approve or reject applicants; admins give roles. Plain forms
that work without JavaScript; every check is the domain's (stgy.domain.account_actions,
stgy.domain.applicants), so a refused action is the page again with the reason."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request

from stgy.domain import account_actions, applicants, roles
from stgy.domain.errors import DomainError, Invalid, NotFound
from stgy.domain.roles import Staff
from stgy.http.validation import parse_id
from stgy.web import context
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.i18n import gettext as _
from stgy.web.rendering import go_to, render_page
from stgy.web.settings_pages import form_values, require_viewer

bp = Blueprint("admin_accounts", __name__, url_prefix="/admin")

PAGE = 50


def action_labels() -> dict[str, str]:
    return {
        "warn": _("Warn (mail them the comment)"),
        "sensitive": _("Mark sensitive (hide their media by default)"),
        "unsensitive": _("Stop marking sensitive"),
        "limit": _("Limit (only followers see their posts)"),
        "unlimit": _("Lift the limit"),
        "suspend": _("Suspend"),
        "unsuspend": _("Lift the suspension"),
        "delete": _("Delete the account and its posts"),
    }


def state_labels() -> dict[str, str]:
    return {
        "active": _("Active"),
        "limited": _("Limited"),
        "suspended": _("Suspended"),
        "pending": _("Waiting for approval"),
        "deleted": _("Deleted"),
    }


def role_labels() -> dict[str, str]:
    return {"user": _("User"), "moderator": _("Moderator"), "admin": _("Admin")}


async def _staff(needed: str = roles.MODERATOR) -> Staff | Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    return await roles.staff_of(context.services(), viewer, needed)


async def _page(template: str, section: str, status: int = 200, **values: Any) -> Response:
    return await render_page(
        f"pages/admin/{template}.html",
        status=status,
        section=section,
        states=state_labels(),
        role_names=role_labels(),
        **values,
    )


# --- Accounts --------------------------------------------------------------------------


@bp.get("/accounts")
async def accounts_page() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    q = request.args.get("q", "")
    origin = request.args.get("origin") or None
    state = request.args.get("state") or None
    offset = _offset()
    errors = FormErrors()
    found: list[account_actions.ModeratedAccount] = []
    try:
        found = await account_actions.search(
            context.services(),
            staff,
            query=q,
            origin=origin,
            state=state,
            limit=PAGE + 1,
            offset=offset,
        )
    except Invalid as exc:
        errors = form_errors(exc, ("q", "origin", "state"))
    status = 400 if errors else 200
    return await _page(
        "accounts",
        "accounts",
        status,
        accounts=found[:PAGE],
        more=len(found) > PAGE,
        offset=offset,
        page=PAGE,
        values={"q": q, "origin": origin or "", "state": state or ""},
        errors=errors,
    )


def _offset() -> int:
    raw = request.args.get("offset", "0")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 0


async def _account_page(
    staff: Staff, account_id: int, errors: FormErrors, status: int = 200, **values: Any
) -> Response:
    page = await account_actions.get(context.services(), staff, account_id)
    return await _page(
        "account",
        "accounts",
        status,
        account=page.account,
        actions=page.actions,
        history=page.history,
        labels=action_labels(),
        errors=errors,
        done=request.args.get("done", ""),
        values=values,
    )


@bp.get("/accounts/<account_id>")
async def account_page(account_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    return await _account_page(staff, parse_id(account_id, "account"), FormErrors())


@bp.post("/accounts/<account_id>")
async def act(account_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    number = parse_id(account_id, "account")
    values = await form_values()
    action = values.get("action", "")
    comment = values.get("comment", "")
    try:
        if action == "delete" and not values.get("confirm"):
            raise Invalid("confirm", _("Tick the box to confirm the deletion."))
        await account_actions.act(context.services(), staff, number, action, comment=comment)
    except NotFound:
        raise
    except DomainError as exc:
        return await _account_page(
            staff,
            number,
            form_errors(exc, ("action", "comment", "confirm")),
            exc.status,
            action=action,
            comment=comment,
        )
    return go_to(f"/admin/accounts/{number}?done={action}")


# --- Applicants ------------------------------------------------------------------------


async def _applicants_page(staff: Staff, errors: FormErrors, status: int = 200) -> Response:
    found = await applicants.applicants(context.services(), staff, limit=PAGE)
    return await _page(
        "applicants",
        "applicants",
        status,
        applicants=found,
        errors=errors,
        done=request.args.get("done", ""),
        mode=context.config().instance.registrations,
    )


@bp.get("/applicants")
async def applicants_page() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    return await _applicants_page(staff, FormErrors())


@bp.post("/applicants/<account_id>/<decision>")
async def decide(account_id: str, decision: str) -> Response:
    if decision not in ("approve", "reject"):
        raise NotFound("no such decision")
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    number = parse_id(account_id, "account")
    comment = (await form_values()).get("comment", "")
    run = applicants.approve if decision == "approve" else applicants.reject
    try:
        await run(context.services(), staff, number, comment=comment)
    except DomainError as exc:
        return await _applicants_page(staff, form_errors(exc, ()), exc.status)
    return go_to(f"/admin/applicants?done={decision}")


# --- Roles (admins) --------------------------------------------------------------------


async def _roles_page(
    staff: Staff, errors: FormErrors, status: int = 200, values: dict[str, str] | None = None
) -> Response:
    found = await applicants.staff_list(context.services(), staff)
    return await _page(
        "roles",
        "roles",
        status,
        staff_accounts=found,
        errors=errors,
        values=values or {},
        saved=request.args.get("saved") == "1" and status == 200,
    )


@bp.get("/roles")
async def roles_page() -> Response:
    staff = await _staff(roles.ADMIN)
    if isinstance(staff, Response):
        return staff
    return await _roles_page(staff, FormErrors())


@bp.post("/roles")
async def set_role() -> Response:
    staff = await _staff(roles.ADMIN)
    if isinstance(staff, Response):
        return staff
    values = await form_values()
    services = context.services()
    try:
        handle = values.get("handle", "").strip()
        if not handle:
            raise Invalid("handle", _("Fill this in."))
        account_id = await applicants.applicant_id(services, handle)
        await applicants.set_role(
            services, staff, account_id, values.get("role", ""), comment=values.get("comment", "")
        )
    except DomainError as exc:
        errors = form_errors(exc, ("handle", "role", "comment"))
        if isinstance(exc, NotFound):
            errors = FormErrors(fields={"handle": _("No local account has this handle.")})
        return await _roles_page(staff, errors, exc.status, values)
    return go_to("/admin/roles?saved=1")
