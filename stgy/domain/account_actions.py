"""Moderators' actions on accounts (issue 17, docs/moderation.md): warn, mark sensitive,
limit, suspend, unsuspend and delete local accounts; limit, suspend and lift remote ones.

Every action checks the staff's role here (so the web UI, the native API and the CLI
refuse alike), re-reading it in the action's transaction: a moderator suspended or
demoted a moment ago can do nothing. Each writes its audit row in that transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from stgy.domain import audit, roles
from stgy.domain.errors import Conflict, Forbidden, Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.domain.mail import messages
from stgy.domain.roles import Staff
from stgy.jobs import ANNOUNCE_SUSPENSION, suspension_job_key
from stgy.services import Services
from storage import account_moderation as moderation_sql
from storage import accounts as accounts_sql
from storage import audit as audit_sql
from storage import follows as follows_sql
from storage import notifications as notifications_sql
from storage import renderings as renderings_sql
from storage import sessions as sessions_sql
from storage.account_moderation import ModeratedAccount
from storage.db import Conn

__all__ = [
    "AccountPage",
    "ModeratedAccount",
    "act",
    "announce_suspension",
    "available",
    "check_staff",
    "get",
    "resolve",
    "search",
    "sweep",
]

LOCAL_ACTIONS = (
    "warn",
    "sensitive",
    "unsensitive",
    "limit",
    "unlimit",
    "suspend",
    "unsuspend",
    "delete",
)
REMOTE_ACTIONS = ("limit", "unlimit", "suspend", "unsuspend")
ACTIONS = LOCAL_ACTIONS
ORIGINS = ("local", "remote")
STATES = ("active", "limited", "suspended", "pending", "deleted")
MAX_PAGE = 200
MAX_COMMENT = 5000
# Who the moderation sweep's own actions (purges) are recorded as.
SYSTEM = Staff(None, "system", roles.ADMIN)


@dataclass(frozen=True)
class AccountPage:
    """An account, what may be done to it, and its history in the audit log."""

    account: ModeratedAccount
    actions: tuple[str, ...]
    history: list[audit.AuditEntry]


async def check_staff(conn: Conn, staff: Staff, needed: str = roles.MODERATOR) -> Staff:
    """The staff as they are now in the database: a suspended, deleted or demoted
    account holds no role (the CLI is an admin)."""
    if staff.account_id is None:
        return roles.require(staff, needed)
    role = await moderation_sql.staff_role(conn, account_id=staff.account_id)
    if role is None:
        raise Forbidden("your account is not active")
    return roles.require(Staff(staff.account_id, staff.handle, role), needed)


def check_comment(comment: str) -> str:
    clean = comment.strip()
    if len(clean) > MAX_COMMENT:
        raise Invalid("comment", f"at most {MAX_COMMENT} characters")
    return clean


def available(account: ModeratedAccount) -> tuple[str, ...]:
    """The actions that change something on the account now."""
    if account.deleted_at is not None:
        return ()
    if account.is_local and account.approved is False and account.suspended_at is None:
        return ("delete",)  # an applicant: approve or reject instead (applicants)
    done = {
        "sensitive": account.sensitized_at is not None,
        "unsensitive": account.sensitized_at is None,
        "limit": account.limited_at is not None,
        "unlimit": account.limited_at is None,
        "suspend": account.suspended_at is not None,
        "unsuspend": account.suspended_at is None,
    }
    names = LOCAL_ACTIONS if account.is_local else REMOTE_ACTIONS
    return tuple(name for name in names if not done.get(name, False))


async def search(
    services: Services,
    staff: Staff,
    *,
    query: str = "",
    origin: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ModeratedAccount]:
    if origin is not None and origin not in ORIGINS:
        raise Invalid("origin", f"one of {', '.join(ORIGINS)}")
    if state is not None and state not in STATES:
        raise Invalid("state", f"one of {', '.join(STATES)}")
    if len(query) > 300:
        raise Invalid("q", "at most 300 characters")
    async with services.pool.acquire() as conn:
        await check_staff(conn, staff)
        return await moderation_sql.search(
            conn,
            query=query.strip().lstrip("@"),
            origin=origin,
            state=state,
            limit=max(1, min(limit, MAX_PAGE)),
            offset=max(0, offset),
        )


async def get(services: Services, staff: Staff, account_id: int) -> AccountPage:
    async with services.pool.acquire() as conn:
        await check_staff(conn, staff)
        account = await moderation_sql.get(conn, account_id=account_id)
        if account is None:
            raise NotFound("no such account")
        history = await audit_sql.entries(
            conn, limit=MAX_PAGE, before=None, target_type="account", target=str(account_id)
        )
    return AccountPage(account, available(account), history)


async def resolve(services: Services, acct: str) -> int:
    """The id of a local `handle` or a known remote `handle@domain` (a leading @ is fine)."""
    handle, _, domain = acct.strip().lstrip("@").partition("@")
    if not handle:
        raise Invalid("account", "a handle, or handle@domain for a remote account")
    async with services.pool.acquire() as conn:
        account = await accounts_sql.find_by_handle(
            conn, handle=handle, domain=domain.lower() or None
        )
    if account is None:
        raise NotFound(f"no account {acct!r}")
    return account.id


async def act(
    services: Services, staff: Staff, account_id: int, action: str, *, comment: str = ""
) -> ModeratedAccount:
    """Do `action` to the account, with the moderator's comment (a warning's text);
    its audit row is written in the same transaction. The account as it is after."""
    if action not in LOCAL_ACTIONS:
        raise Invalid("action", f"one of {', '.join(LOCAL_ACTIONS)}")
    comment = check_comment(comment)
    if action == "warn" and not comment:
        raise Invalid("comment", "a warning needs its text")
    events: list[int] = []
    async with services.pool.acquire() as conn, conn.transaction():
        staff = await check_staff(conn, staff)
        account = await moderation_sql.get(conn, account_id=account_id, lock=True)
        if account is None or account.deleted_at is not None:
            raise NotFound("no such account")
        _check_target(staff, account, action)
        if action not in available(account):
            raise Conflict({"action": action, "reason": f"the account is {account.state}"})
        await _apply(conn, services, account, action, comment, events)
        await audit.record(
            conn,
            staff,
            f"account.{action}",
            "account",
            account.id,
            comment=comment,
            details={"acct": account.acct},
        )
        after = await moderation_sql.get(conn, account_id=account_id)
    assert after is not None  # noqa: S101 - read in the transaction that kept it
    await outbox.enqueue_events(services.jobs, events)
    if action == "suspend" and account.is_local:
        await schedule_announcement(services, after)
    return after


def _check_target(staff: Staff, account: ModeratedAccount, action: str) -> None:
    if staff.account_id is not None and staff.account_id == account.id:
        raise Forbidden("not on your own account")
    if account.role in (roles.MODERATOR, roles.ADMIN) and not staff.is_admin:
        raise Forbidden("only admins may act on moderators and admins")
    if not account.is_local and action not in REMOTE_ACTIONS:
        raise Invalid("action", f"on remote accounts: one of {', '.join(REMOTE_ACTIONS)}")


async def _apply(
    conn: Conn,
    services: Services,
    account: ModeratedAccount,
    action: str,
    comment: str,
    events: list[int],
) -> None:
    if action == "warn":
        # In the app (a notification with the text, moderators unnamed) and by mail.
        await notifications_sql.insert_warning(conn, account_id=account.id, text=comment)
        await _mail(conn, services, account, "moderation_warning", {"text": comment})
        return
    if action in ("sensitive", "unsensitive"):
        await moderation_sql.set_sensitized(
            conn, account_id=account.id, sensitized=action == "sensitive"
        )
    elif action in ("limit", "unlimit"):
        await moderation_sql.set_limited(conn, account_id=account.id, limited=action == "limit")
    elif action in ("suspend", "unsuspend"):
        suspend = action == "suspend"
        await moderation_sql.set_suspended(conn, account_id=account.id, suspended=suspend)
        if suspend and account.is_local:
            await sessions_sql.revoke_all_sessions(conn, account_id=account.id)
        if suspend and not account.is_local:
            await _cut_off_remote(conn, account, events)
    elif action == "delete":
        await accounts_sql.mark_deleted(conn, account_id=account.id)
        await sessions_sql.revoke_all_sessions(conn, account_id=account.id)
        # Content goes in the event's job, which first tells remote followers.
        events.append(
            await outbox.record_event(conn, "account.deleted", {"account_id": account.id})
        )
        return
    await renderings_sql.drop_account(conn, account_id=account.id)
    await renderings_sql.drop_account_posts(conn, account_id=account.id)


async def _cut_off_remote(conn: Conn, account: ModeratedAccount, events: list[int]) -> None:
    """A suspended remote account: gone from our home timelines, and every follow
    between it and our people ended (an Undo of ours, a Reject of theirs)."""
    from stgy.domain.follows import remove_follow

    await moderation_sql.remove_from_timelines(conn, author_id=account.id)
    for follower_id, followee_id in await moderation_sql.local_follow_pairs(
        conn, account_id=account.id
    ):
        if follower_id == account.id:
            state = await follows_sql.delete_follow(
                conn, follower_id=follower_id, followee_id=followee_id
            )
            if state is not None:
                payload = {
                    "follower_id": follower_id,
                    "followee_id": followee_id,
                    "state": state,
                    "rejected": True,
                }
                events.append(await outbox.record_event(conn, "follow.removed", payload))
        else:
            event = await remove_follow(conn, follower_id, followee_id)
            if event is not None:
                events.append(event)


async def _mail(
    conn: Conn,
    services: Services,
    account: ModeratedAccount,
    template: str,
    context: dict[str, str],
) -> None:
    if not account.email:
        return
    message = messages.compose(
        services.config,
        to=account.email,
        template=template,
        context={"handle": account.handle, "display_name": account.display_name, **context},
    )
    await messages.enqueue(services, message, conn)


# --- a suspended local account's Delete, after the grace period --------------------------


async def schedule_announcement(services: Services, account: ModeratedAccount) -> None:
    """Enqueue the job that sends the suspended account's Delete once the grace period
    is over; the moderation sweep sends any whose job was lost."""
    if account.suspended_at is None:
        return
    grace = services.config.moderation.suspension_grace_seconds
    await services.jobs.enqueue(
        ANNOUNCE_SUSPENSION,
        key=suspension_job_key(account.id, account.suspended_at.timestamp()),
        # A second late, so the database clock agrees the grace period is over.
        scheduled=int(time.time() + grace + 1),
        account_id=account.id,
    )


async def announce_suspension(services: Services, account_id: int) -> bool:
    """Send the `Delete` of a suspended local actor to the servers of its followers and
    followees, once, if it is still suspended and its grace period is over."""
    from federation import activities
    from stgy.domain.remote.outgoing import send
    from storage import deliveries as deliveries_sql

    grace = services.config.moderation.suspension_grace_seconds
    async with services.pool.acquire() as conn, conn.transaction():
        if not await moderation_sql.claim_announcement(
            conn, account_id=account_id, grace_seconds=grace
        ):
            return False
        account = await accounts_sql.get_account(conn, account_id=account_id)
        if account is None or not services.config.federation.enabled:
            return True
        inboxes = set(await deliveries_sql.follower_inboxes(conn, account_id=account_id))
        inboxes.update(await deliveries_sql.following_inboxes(conn, account_id=account_id))
        await send(
            conn,
            sender_id=account_id,
            activity=activities.delete_actor(account.ap_id),
            inboxes=inboxes,
        )
    return True


async def sweep(services: Services, *, batch: int = 100) -> tuple[int, int]:
    """The moderation cron: announce suspensions whose job was lost, and purge local
    accounts suspended for longer than moderation.suspension_days (as a deletion).
    How many of each."""
    config = services.config.moderation
    async with services.pool.acquire() as conn:
        due = await moderation_sql.due_announcements(
            conn, grace_seconds=config.suspension_grace_seconds, limit=batch
        )
    announced = 0
    for account_id in due:
        announced += await announce_suspension(services, account_id)
    async with services.pool.acquire() as conn:
        purge = await moderation_sql.due_purges(conn, days=config.suspension_days, limit=batch)
    events = []
    for account_id in purge:
        async with services.pool.acquire() as conn, conn.transaction():
            await accounts_sql.mark_deleted(conn, account_id=account_id)
            await audit.record(
                conn,
                SYSTEM,
                "account.purge",
                "account",
                account_id,
                comment=f"suspended for over {config.suspension_days:g} days",
            )
            events.append(
                await outbox.record_event(conn, "account.deleted", {"account_id": account_id})
            )
    await outbox.enqueue_events(services.jobs, events)
    return announced, len(purge)
