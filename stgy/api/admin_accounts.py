"""Native API for moderators (docs/moderation.md, docs/api.md): accounts and their actions,
applicants, roles. Roles are checked in the domain (stgy.domain.account_actions,
stgy.domain.applicants): moderators and admins; roles are for admins only."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.serializers import iso
from stgy.domain import account_actions, applicants, roles
from stgy.domain.account_actions import ModeratedAccount
from stgy.domain.audit import AuditEntry
from stgy.http.context import require_viewer, services
from stgy.http.validation import QueryModel, RequestModel, json_body, parse_id, query, responds

bp = Blueprint("admin_accounts", __name__, url_prefix="/api/admin")

Action = Literal[
    "warn", "sensitive", "unsensitive", "limit", "unlimit", "suspend", "unsuspend", "delete"
]


class ModeratedAccountOut(BaseModel):
    id: str
    acct: str = Field(description="handle, or handle@domain for a remote account")
    handle: str
    domain: str | None
    display_name: str
    url: str | None
    local: bool
    state: str = Field(description="active, limited, suspended, pending or deleted")
    role: str | None = Field(description="user, moderator or admin (local accounts)")
    email: str | None
    registration_reason: str | None
    created_at: str
    suspended_at: str | None
    limited_at: str | None
    sensitized_at: str | None
    deleted_at: str | None
    suspension_announced_at: str | None = Field(
        description="when the Delete of a suspended local account went out"
    )
    posts_count: int
    followers_count: int
    following_count: int


class ModeratedAccountListOut(BaseModel):
    accounts: list[ModeratedAccountOut]


class AuditEntryOut(BaseModel):
    id: str
    created_at: str
    actor: str
    action: str
    comment: str
    details: dict[str, Any]


class AccountPageOut(BaseModel):
    account: ModeratedAccountOut
    actions: list[str] = Field(description="the actions that change something now")
    history: list[AuditEntryOut] = Field(description="its audit log rows, newest first")


class AccountsQuery(QueryModel):
    q: str = Field(default="", max_length=300, description="part of handle@domain")
    origin: Literal["local", "remote"] | None = None
    state: Literal["active", "limited", "suspended", "pending", "deleted"] | None = None
    limit: int = Field(default=50, ge=1, le=account_actions.MAX_PAGE)
    offset: int = Field(default=0, ge=0)


class ApplicantsQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=applicants.MAX_PAGE)
    offset: int = Field(default=0, ge=0)


class ActionIn(RequestModel):
    action: Action
    comment: str = Field(default="", description="why; a warning's text (required for warn)")


class CommentIn(RequestModel):
    comment: str = ""


class RoleIn(RequestModel):
    role: Literal["user", "moderator", "admin"]
    comment: str = ""


def account_json(a: ModeratedAccount) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return iso(value) if value is not None else None

    return {
        "id": str(a.id),
        "acct": a.acct,
        "handle": a.handle,
        "domain": a.domain,
        "display_name": a.display_name,
        "url": a.url,
        "local": a.is_local,
        "state": a.state,
        "role": a.role,
        "email": a.email,
        "registration_reason": a.registration_reason,
        "created_at": iso(a.created_at),
        "suspended_at": when(a.suspended_at),
        "limited_at": when(a.limited_at),
        "sensitized_at": when(a.sensitized_at),
        "deleted_at": when(a.deleted_at),
        "suspension_announced_at": when(a.suspension_announced_at),
        "posts_count": a.posts_count,
        "followers_count": a.followers_count,
        "following_count": a.following_count,
    }


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "created_at": iso(entry.created_at),
        "actor": entry.actor,
        "action": entry.action,
        "comment": entry.comment,
        "details": entry.details,
    }


async def _staff(needed: str = roles.MODERATOR) -> roles.Staff:
    return await roles.staff_of(services(), await require_viewer(), needed)


@bp.get("/accounts")
@query(AccountsQuery)
@responds(ModeratedAccountListOut)
@schemas.fails_with(400, 401, 403)
async def list_accounts(query: AccountsQuery) -> Response:
    """Accounts, local and remote, newest first (moderators)."""
    found = await account_actions.search(
        services(),
        await _staff(),
        query=query.q,
        origin=query.origin,
        state=query.state,
        limit=query.limit,
        offset=query.offset,
    )
    return jsonify({"accounts": [account_json(a) for a in found]})


@bp.get("/accounts/<account_id>")
@responds(AccountPageOut)
@schemas.fails_with(401, 403, 404)
async def get_account(account_id: str) -> Response:
    """An account, the actions open on it and its history (moderators)."""
    page = await account_actions.get(services(), await _staff(), parse_id(account_id, "account"))
    return jsonify(
        {
            "account": account_json(page.account),
            "actions": list(page.actions),
            "history": [entry_json(e) for e in page.history],
        }
    )


@bp.post("/accounts/<account_id>/actions")
@json_body(ActionIn)
@responds(ModeratedAccountOut)
@schemas.fails_with(400, 401, 403, 404, 409)
async def act_on_account(account_id: str, body: ActionIn) -> Response:
    """Warn, mark sensitive, limit, suspend, lift or delete (moderators; remote accounts:
    limit, unlimit, suspend, unsuspend). The account as it is after."""
    account = await account_actions.act(
        services(),
        await _staff(),
        parse_id(account_id, "account"),
        body.action,
        comment=body.comment,
    )
    return jsonify(account_json(account))


@bp.put("/accounts/<account_id>/role")
@json_body(RoleIn)
@responds(ModeratedAccountOut)
@schemas.fails_with(400, 401, 403, 404, 409)
async def set_role(account_id: str, body: RoleIn) -> Response:
    """Give a local account a role (admins only)."""
    account = await applicants.set_role(
        services(),
        await _staff(roles.ADMIN),
        parse_id(account_id, "account"),
        body.role,
        comment=body.comment,
    )
    return jsonify(account_json(account))


@bp.get("/roles")
@responds(ModeratedAccountListOut)
@schemas.fails_with(401, 403)
async def list_staff() -> Response:
    """Moderators and admins (admins only)."""
    found = await applicants.staff_list(services(), await _staff(roles.ADMIN))
    return jsonify({"accounts": [account_json(a) for a in found]})


@bp.get("/applicants")
@query(ApplicantsQuery)
@responds(ModeratedAccountListOut)
@schemas.fails_with(400, 401, 403)
async def list_applicants(query: ApplicantsQuery) -> Response:
    """Accounts waiting for approval, with their reason (moderators)."""
    found = await applicants.applicants(
        services(), await _staff(), limit=query.limit, offset=query.offset
    )
    return jsonify({"accounts": [account_json(a) for a in found]})


@bp.post("/applicants/<account_id>/approve")
@json_body(CommentIn)
@responds(ModeratedAccountOut)
@schemas.fails_with(400, 401, 403, 404, 409)
async def approve_applicant(account_id: str, body: CommentIn) -> Response:
    """Approve: they are mailed and can log in (moderators)."""
    account = await applicants.approve(
        services(), await _staff(), parse_id(account_id, "account"), comment=body.comment
    )
    return jsonify(account_json(account))


@bp.post("/applicants/<account_id>/reject")
@json_body(CommentIn)
@responds(None, 204)
@schemas.fails_with(400, 401, 403, 404, 409)
async def reject_applicant(account_id: str, body: CommentIn) -> tuple[str, int]:
    """Reject: they are mailed and the account removed (moderators)."""
    await applicants.reject(
        services(), await _staff(), parse_id(account_id, "account"), comment=body.comment
    )
    return "", 204
