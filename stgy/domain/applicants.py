"""Applicants and roles (issue 17): with `instance.registrations = "approval"` a new
account waits, with the reason it gave, until a moderator approves it (it can log in
from then on) or rejects it (its rows go, so its handle and address are free again);
either way the person is mailed. Admins give and take roles."""

from __future__ import annotations

from stgy.domain import audit, roles
from stgy.domain.account_actions import check_comment, check_staff
from stgy.domain.errors import Conflict, Forbidden, Invalid, NotFound
from stgy.domain.mail import messages
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import account_moderation as moderation_sql
from storage import accounts as accounts_sql
from storage.account_moderation import ModeratedAccount
from storage.db import Conn

MAX_PAGE = 200


async def applicants(
    services: Services, staff: Staff, *, limit: int = 50, offset: int = 0
) -> list[ModeratedAccount]:
    """Accounts waiting for approval, newest first."""
    async with services.pool.acquire() as conn:
        await check_staff(conn, staff)
        return await moderation_sql.search(
            conn,
            query="",
            origin="local",
            state="pending",
            limit=max(1, min(limit, MAX_PAGE)),
            offset=max(0, offset),
        )


async def _applicant(conn: Conn, account_id: int) -> ModeratedAccount:
    account = await moderation_sql.get(conn, account_id=account_id, lock=True)
    if account is None or not account.is_local or account.deleted_at is not None:
        raise NotFound("no such applicant")
    if account.approved:
        raise Conflict({"reason": "already approved"})
    return account


async def _mail(
    conn: Conn, services: Services, account: ModeratedAccount, template: str, comment: str
) -> None:
    if not account.email:
        return
    message = messages.compose(
        services.config,
        to=account.email,
        template=template,
        context={
            "handle": account.handle,
            "display_name": account.display_name,
            "comment": comment,
            "login_url": f"{services.config.instance.base_url}/login",
        },
    )
    await messages.enqueue(services, message, conn)


async def approve(
    services: Services, staff: Staff, account_id: int, *, comment: str = ""
) -> ModeratedAccount:
    comment = check_comment(comment)
    async with services.pool.acquire() as conn, conn.transaction():
        staff = await check_staff(conn, staff)
        account = await _applicant(conn, account_id)
        await moderation_sql.approve(conn, account_id=account.id)
        await _mail(conn, services, account, "registration_approved", comment)
        await audit.record(
            conn,
            staff,
            "account.approve",
            "account",
            account.id,
            comment=comment,
            details={"acct": account.acct},
        )
        after = await moderation_sql.get(conn, account_id=account.id)
    assert after is not None  # noqa: S101
    return after


async def reject(services: Services, staff: Staff, account_id: int, *, comment: str = "") -> str:
    """Refuse an applicant: they are mailed, then their rows removed. Their handle."""
    comment = check_comment(comment)
    async with services.pool.acquire() as conn, conn.transaction():
        staff = await check_staff(conn, staff)
        account = await _applicant(conn, account_id)
        await _mail(conn, services, account, "registration_rejected", comment)
        await moderation_sql.delete_applicant(conn, account_id=account.id)
        await audit.record(
            conn,
            staff,
            "account.reject",
            "account",
            account.id,
            comment=comment,
            details={"acct": account.acct},
        )
    return account.handle


async def applicant_id(services: Services, handle: str) -> int:
    """A local account by handle (the CLI names applicants so)."""
    async with services.pool.acquire() as conn:
        account = await accounts_sql.find_by_handle(conn, handle=handle.lstrip("@"), domain=None)
    if account is None:
        raise NotFound(f"no local user {handle!r}")
    return account.id


# --- roles ---------------------------------------------------------------------------


async def staff_list(services: Services, staff: Staff) -> list[ModeratedAccount]:
    """Moderators and admins (admins only)."""
    async with services.pool.acquire() as conn:
        await check_staff(conn, staff, roles.ADMIN)
        return await moderation_sql.staff(conn)


async def set_role(
    services: Services, staff: Staff, account_id: int, role: str, *, comment: str = ""
) -> ModeratedAccount:
    """Give a local account a role (admins only); the last live admin keeps theirs."""
    roles.check_role(role)
    comment = check_comment(comment)
    async with services.pool.acquire() as conn, conn.transaction():
        staff = await check_staff(conn, staff, roles.ADMIN)
        account = await moderation_sql.get(conn, account_id=account_id, lock=True)
        if account is None or account.deleted_at is not None:
            raise NotFound("no such account")
        if not account.is_local or account.role is None:
            raise Invalid("account", "only local accounts have roles")
        if account.role == role:
            raise Conflict({"reason": f"already {role}"})
        if account.role == roles.ADMIN and account.suspended_at is None:
            # Serialised with other role changes by this lock on the admins' rows.
            await moderation_sql.lock_roles(conn)
            if await moderation_sql.count_admins(conn) <= 1:
                raise Forbidden("the last admin cannot stop being one")
        await accounts_sql.set_role(conn, account_id=account.id, role=role)
        await audit.record(
            conn,
            staff,
            "account.role",
            "account",
            account.id,
            comment=comment,
            details={"acct": account.acct, "from": account.role, "to": role},
        )
        after = await moderation_sql.get(conn, account_id=account.id)
    assert after is not None  # noqa: S101
    return after
