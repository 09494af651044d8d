"""SQL for mail: single-use tokens, users' mail settings and addresses, mailed notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.db import Conn

PURPOSES = ("confirm_email", "change_email", "reset_password")


@dataclass(frozen=True)
class MailToken:
    id: int
    account_id: int
    purpose: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class MailUser:
    """A local user as mail needs them: where to write and what they asked for."""

    account_id: int
    handle: str
    display_name: str
    email: str
    confirmed_at: datetime | None
    mail_on_follow: bool
    mail_on_mention: bool
    active: bool  # neither suspended nor deleted

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True)
class NotificationMail:
    """A notification to mail now (claimed: it will not be claimed again)."""

    notification_id: int
    account_id: int
    from_account_id: int
    post_id: int | None


_TOKEN_COLUMNS = "id, account_id, purpose, email, created_at, expires_at, used_at"  # noqa: S105
_USER_COLUMNS = (
    "u.account_id, a.handle, a.display_name, u.email, u.confirmed_at, u.mail_on_follow,"
    " u.mail_on_mention, a.suspended_at IS NULL AND a.deleted_at IS NULL AS active"
)


def _token(row: asyncpg.Record) -> MailToken:
    return MailToken(
        id=row["id"],
        account_id=row["account_id"],
        purpose=row["purpose"],
        email=row["email"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
    )


def _user(row: asyncpg.Record) -> MailUser:
    return MailUser(
        account_id=row["account_id"],
        handle=row["handle"],
        display_name=row["display_name"],
        email=row["email"],
        confirmed_at=row["confirmed_at"],
        mail_on_follow=row["mail_on_follow"],
        mail_on_mention=row["mail_on_mention"],
        active=row["active"],
    )


async def insert_token(
    conn: Conn,
    *,
    account_id: int,
    purpose: str,
    token_hash: bytes,
    email: str,
    expires_at: datetime,
) -> MailToken:
    """A new token; earlier unused tokens of the same account and purpose stop working."""
    await conn.execute(
        "UPDATE mail_tokens SET used_at = now()"
        " WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
        account_id,
        purpose,
    )
    row = await conn.fetchrow(
        "INSERT INTO mail_tokens (account_id, purpose, token_hash, email, expires_at)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING " + _TOKEN_COLUMNS,
        account_id,
        purpose,
        token_hash,
        email,
        expires_at,
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    return _token(row)


async def find_live_token(
    conn: Conn, *, token_hash: bytes, purposes: list[str]
) -> MailToken | None:
    """An unused, unexpired token of one of `purposes`, by its hash."""
    row = await conn.fetchrow(
        "SELECT " + _TOKEN_COLUMNS + " FROM mail_tokens WHERE token_hash = $1"
        " AND purpose = ANY($2::text[]) AND used_at IS NULL AND expires_at > now()",
        token_hash,
        purposes,
    )
    return _token(row) if row else None


async def use_token(conn: Conn, *, token_hash: bytes, purposes: list[str]) -> MailToken | None:
    """Spend a live token (once: a second caller racing for it gets None)."""
    row = await conn.fetchrow(
        "UPDATE mail_tokens SET used_at = now() WHERE token_hash = $1"
        " AND purpose = ANY($2::text[]) AND used_at IS NULL AND expires_at > now()"
        " RETURNING " + _TOKEN_COLUMNS,
        token_hash,
        purposes,
    )
    return _token(row) if row else None


async def drop_tokens(conn: Conn, *, account_id: int, purpose: str) -> None:
    """Spend every unused token of the account for `purpose` (after a reset, say)."""
    await conn.execute(
        "UPDATE mail_tokens SET used_at = now()"
        " WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
        account_id,
        purpose,
    )


async def pending_email(conn: Conn, *, account_id: int) -> str | None:
    """The new address of an email change still waiting for its confirmation."""
    found: str | None = await conn.fetchval(
        "SELECT email FROM mail_tokens WHERE account_id = $1 AND purpose = 'change_email'"
        " AND used_at IS NULL AND expires_at > now() ORDER BY id DESC LIMIT 1",
        account_id,
    )
    return found


async def get_user(conn: Conn, *, account_id: int) -> MailUser | None:
    row = await conn.fetchrow(
        "SELECT " + _USER_COLUMNS + " FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE u.account_id = $1",
        account_id,
    )
    return _user(row) if row else None


async def find_user(conn: Conn, *, login: str) -> MailUser | None:
    """A local user by handle or email, case-insensitively."""
    row = await conn.fetchrow(
        "SELECT " + _USER_COLUMNS + " FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE (lower(a.handle) = lower($1) AND a.domain IS NULL) OR lower(u.email) = lower($1)"
        " LIMIT 1",
        login,
    )
    return _user(row) if row else None


async def get_users(conn: Conn, *, account_ids: list[int]) -> dict[int, MailUser]:
    rows = await conn.fetch(
        "SELECT " + _USER_COLUMNS + " FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE u.account_id = ANY($1::bigint[])",
        account_ids,
    )
    return {row["account_id"]: _user(row) for row in rows}


async def mark_confirmed(conn: Conn, *, account_id: int, email: str) -> bool:
    """Confirm the account's address, if it still is `email`; True when it is confirmed."""
    result = await conn.execute(
        "UPDATE users SET confirmed_at = coalesce(confirmed_at, now())"
        " WHERE account_id = $1 AND lower(email) = lower($2)",
        account_id,
        email,
    )
    return result.endswith(" 1")


async def change_email(conn: Conn, *, account_id: int, email: str) -> None:
    """Replace the address with a confirmed new one (raises UniqueViolationError if taken)."""
    await conn.execute(
        "UPDATE users SET email = $2, confirmed_at = now() WHERE account_id = $1",
        account_id,
        email,
    )


async def update_settings(
    conn: Conn, *, account_id: int, mail_on_follow: bool | None, mail_on_mention: bool | None
) -> None:
    """Set the given settings (None keeps one as it is)."""
    await conn.execute(
        "UPDATE users SET mail_on_follow = coalesce($2, mail_on_follow),"
        " mail_on_mention = coalesce($3, mail_on_mention) WHERE account_id = $1",
        account_id,
        mail_on_follow,
        mail_on_mention,
    )


async def claim_follow_mail(
    conn: Conn, *, account_id: int, from_account_id: int
) -> NotificationMail | None:
    """The `follow` notification of `account_id` about `from_account_id`, when its recipient
    wants follow mails and it was not mailed yet; recorded as mailed in this transaction."""
    row = await conn.fetchrow(
        "INSERT INTO notification_mails (notification_id)"
        " SELECT n.id FROM notifications n JOIN users u ON u.account_id = n.account_id"
        " WHERE n.account_id = $1 AND n.type = 'follow' AND n.from_account_id = $2"
        " AND u.mail_on_follow"
        " ON CONFLICT DO NOTHING RETURNING notification_id",
        account_id,
        from_account_id,
    )
    if row is None:
        return None
    return NotificationMail(row["notification_id"], account_id, from_account_id, None)


async def claim_mention_mails(conn: Conn, *, post_id: int) -> list[NotificationMail]:
    """The `mention` notifications of a post whose recipients want mention mails and that
    were not mailed yet; recorded as mailed in this transaction."""
    rows = await conn.fetch(
        "WITH claimed AS (INSERT INTO notification_mails (notification_id)"
        " SELECT n.id FROM notifications n JOIN users u ON u.account_id = n.account_id"
        " WHERE n.post_id = $1 AND n.type = 'mention' AND u.mail_on_mention"
        " ON CONFLICT DO NOTHING RETURNING notification_id)"
        " SELECT n.id, n.account_id, n.from_account_id, n.post_id FROM notifications n"
        " JOIN claimed c ON c.notification_id = n.id ORDER BY n.id",
        post_id,
    )
    return [NotificationMail(row[0], row[1], row[2], row[3]) for row in rows]
