"""Email addresses: confirmation at registration, resending it, changing the address.

A new account is mailed a confirmation link by the `account.created` outbox handler.
With `mail.require_confirmation`, an unconfirmed account can log in and read but not
post. A new address takes effect only once the link mailed to it is followed; the old
address stays until then and is told of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import quote as url_quote

import asyncpg

from stgy.config import Config
from stgy.domain.accounts import check_email
from stgy.domain.auth import password_matches
from stgy.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from stgy.domain.jobs import outbox
from stgy.domain.mail import messages
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import mail as mail_sql
from storage.db import Conn
from storage.mail import MailUser
from storage.outbox import OutboxEvent
from storage.sessions import Viewer

BAD_TOKEN = "unknown, used or expired token"  # noqa: S105 - a message, not a secret
CONFIRM_PATH = "/auth/confirm-email"


class EmailUnconfirmed(Forbidden):
    error = "email_unconfirmed"


@dataclass(frozen=True)
class Confirmed:
    email: str
    changed: bool  # True when this confirmed a new address (an email change)


def check_can_post(config: Config, viewer: Viewer) -> None:
    """Refuse to post for an unconfirmed account while confirmation is required."""
    if config.mail.require_confirmation and not viewer.confirmed:
        raise EmailUnconfirmed(
            {
                "reason": "confirm your email address before posting",
                "resend": "POST /api/auth/confirm-email/resend",
            }
        )


def confirm_link(config: Config, token: str) -> str:
    return f"{config.instance.base_url}{CONFIRM_PATH}?token={url_quote(token)}"


async def _mail_confirmation(
    conn: Conn, services: Services, user: MailUser, *, purpose: str, email: str
) -> EmailMessage:
    token, token_hash = messages.new_token()
    await mail_sql.insert_token(
        conn,
        account_id=user.account_id,
        purpose=purpose,
        token_hash=token_hash,
        email=email,
        expires_at=messages.expiry(purpose),
    )
    return messages.compose(
        services.config,
        to=email,
        template=purpose,
        context={
            "handle": user.handle,
            "display_name": user.display_name,
            "email": email,
            "link": confirm_link(services.config, token),
            "hours": int(messages.LIFETIMES[purpose].total_seconds() // 3600),
        },
    )


@outbox.handles("account.created")
async def _account_created(conn: Conn, event: OutboxEvent, services: Services) -> None:
    # Enqueued inside the event's transaction: the job reads nothing it writes. If the
    # transaction rolled back, the event runs again and mails a fresh token.
    user = await mail_sql.get_user(conn, account_id=int(event.payload["account_id"]))
    if user is None or not user.active or user.confirmed:
        return
    message = await _mail_confirmation(
        conn, services, user, purpose="confirm_email", email=user.email
    )
    await messages.enqueue(services, message, conn)


async def resend(services: Services, account_id: int) -> None:
    """Mail a new confirmation link (earlier ones stop working)."""
    async with services.pool.acquire() as conn:
        user = await mail_sql.get_user(conn, account_id=account_id)
    if user is None or not user.active:
        raise NotFound("no such account")
    if user.confirmed:
        raise Conflict({"field": "email", "reason": "already confirmed"})
    limit = services.config.mail.rate_limit_per_hour
    await messages.count_mail(services, [f"account:{account_id}"], limit)
    async with services.pool.acquire() as conn, conn.transaction():
        message = await _mail_confirmation(
            conn, services, user, purpose="confirm_email", email=user.email
        )
    await messages.enqueue(services, message)


def check_token(token: str) -> None:
    if not token or len(token) > messages.MAX_TOKEN:
        raise Invalid("token", BAD_TOKEN)


async def confirm(services: Services, token: str) -> Confirmed:
    """Follow a confirmation link: confirm the address, or switch to the new one."""
    check_token(token)
    purposes = ["confirm_email", "change_email"]
    async with services.pool.acquire() as conn:
        try:
            async with conn.transaction():
                used = await mail_sql.use_token(
                    conn, token_hash=messages.token_hash(token), purposes=purposes
                )
                if used is None:
                    raise Invalid("token", BAD_TOKEN)
                user = await mail_sql.get_user(conn, account_id=used.account_id)
                if user is None or not user.active:
                    raise Invalid("token", BAD_TOKEN)
                if used.purpose == "confirm_email":
                    # A link to an address the account no longer has confirms nothing.
                    if not await mail_sql.mark_confirmed(
                        conn, account_id=used.account_id, email=used.email
                    ):
                        raise Invalid("token", BAD_TOKEN)
                    return Confirmed(used.email, changed=False)
                await mail_sql.change_email(conn, account_id=used.account_id, email=used.email)
        except asyncpg.UniqueViolationError:
            # Someone registered the address meanwhile; the token stays unused.
            raise Conflict({"field": "email", "reason": "already registered"}) from None
    return Confirmed(used.email, changed=True)


async def request_change(services: Services, account_id: int, *, email: str, password: str) -> str:
    """Mail a confirmation link to a new address, and a notice to the current one."""
    email = email.strip()
    check_email(email, single_label=services.config.instance.is_local_only)
    async with services.pool.acquire() as conn:
        creds = await accounts_sql.get_credentials(conn, account_id=account_id)
        user = await mail_sql.get_user(conn, account_id=account_id)
    if creds is None or user is None or not user.active:
        raise NotFound("no such account")
    if not await password_matches(creds.password_hash, password):
        raise Unauthorized("wrong password")
    if email.lower() == user.email.lower():
        raise Invalid("email", "that is the current address")
    limit = services.config.mail.rate_limit_per_hour
    await messages.count_mail(services, [f"account:{account_id}", f"to:{email.lower()}"], limit)
    async with services.pool.acquire() as conn, conn.transaction():
        if await accounts_sql.email_taken(conn, email=email):
            raise Conflict({"field": "email", "reason": "already registered"})
        message = await _mail_confirmation(
            conn, services, user, purpose="change_email", email=email
        )
    notice = messages.compose(
        services.config,
        to=user.email,
        template="email_change_notice",
        context={"handle": user.handle, "display_name": user.display_name, "new_email": email},
    )
    await messages.enqueue(services, message)
    await messages.enqueue(services, notice)
    return email
