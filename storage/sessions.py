"""SQL for login sessions and the instance's own secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn
from storage.follows import pending_requests_sql
from storage.notifications import unread_count_sql


@dataclass(frozen=True)
class Viewer:
    """The account behind a valid session."""

    account_id: int
    session_id: int
    role: str
    confirmed: bool = True  # the account's email address is confirmed
    language: str | None = None  # the UI language the account chose, if any


@dataclass(frozen=True)
class BrowserViewer:
    """A browser's viewer with what every page's header shows of them."""

    viewer: Viewer
    handle: str
    display_name: str
    unread_notifications: int
    follow_requests: int = 0


@dataclass(frozen=True)
class SessionInfo:
    """A live login of an account, as its owner sees it in their settings."""

    id: int
    created_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str  # where it logged in from
    last_used_at: datetime  # its last request, to within a few minutes (domain.session_use)
    last_used_ip: str


async def get_or_create_secret(conn: Conn, *, name: str, new_value: str) -> str:
    """The stored secret `name`; `new_value` is stored first if there is none yet."""
    await conn.execute(
        "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        new_value,
    )
    value: str = await conn.fetchval("SELECT value FROM instance_secrets WHERE name = $1", name)
    return value


async def create_session(
    conn: Conn, *, account_id: int, expires_at: datetime, user_agent: str, ip: str
) -> int:
    session_id: int = await conn.fetchval(
        "INSERT INTO sessions (account_id, expires_at, user_agent, ip, last_used_ip)"
        " VALUES ($1, $2, $3, $4, $4) RETURNING id",
        account_id,
        expires_at,
        user_agent[:500],
        ip[:100],
    )
    return session_id


def live_session(session: str, account: str) -> str:
    """SQL from FROM on: the session row (`s`, with `a` and `u`) if it is live and its
    account active and approved; `session` and `account` are parameter names."""
    return (
        " FROM sessions s JOIN accounts a ON a.id = s.account_id"
        " JOIN users u ON u.account_id = s.account_id"
        " WHERE s.id = " + session + " AND s.account_id = " + account + ""
        " AND s.revoked_at IS NULL AND s.expires_at > now() AND a.suspended_at IS NULL"
        " AND a.deleted_at IS NULL AND u.approved"
    )


async def active_viewer(conn: Conn, *, session_id: int, account_id: int) -> Viewer | None:
    """The viewer when the session is live and its account active and approved."""
    row = await conn.fetchrow(
        "SELECT s.account_id, s.id, u.role, u.confirmed_at IS NOT NULL, u.language"
        + live_session("$1", "$2"),
        session_id,
        account_id,
    )
    return Viewer(row[0], row[1], row[2], row[3], row[4]) if row else None


async def browser_viewer(conn: Conn, *, session_id: int, account_id: int) -> BrowserViewer | None:
    """active_viewer, with the account's handle, display name, unread notifications and
    pending follow requests counted in the same statement (a page's header needs them all)."""
    row = await conn.fetchrow(
        "SELECT s.account_id, s.id, u.role, u.confirmed_at IS NOT NULL, u.language,"
        " a.handle, a.display_name, "
        + unread_count_sql("s.account_id")
        + ", "
        + pending_requests_sql("s.account_id")
        + live_session("$1", "$2"),
        session_id,
        account_id,
    )
    if row is None:
        return None
    viewer = Viewer(row[0], row[1], row[2], row[3], row[4])
    return BrowserViewer(viewer, row[5], row[6], row[7], row[8])


async def list_sessions(conn: Conn, *, account_id: int) -> list[SessionInfo]:
    """The account's live sessions, newest first; those behind an app's OAuth token are
    listed with the authorised apps instead (storage/oauth.py)."""
    rows = await conn.fetch(
        "SELECT id, created_at, expires_at, user_agent, ip,"
        " coalesce(last_used_at, created_at), coalesce(last_used_ip, ip) FROM sessions s"
        " WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > now()"
        " AND NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.session_id = s.id)"
        " ORDER BY id DESC LIMIT 100",
        account_id,
    )
    return [SessionInfo(*row) for row in rows]


async def note_session_use(conn: Conn, *, session_id: int, ip: str, every_seconds: float) -> bool:
    """Record that the session was used now, from `ip`, unless that was recorded less than
    `every_seconds` ago (the comparison is in the statement, so processes racing to
    record the same use write once); True when it wrote."""
    done: str = await conn.execute(
        "UPDATE sessions SET last_used_at = now(), last_used_ip = $2"
        " WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()"
        " AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $3))",
        session_id,
        ip[:100],
        every_seconds,
    )
    return done.endswith(" 1")


async def revoke_own_session(conn: Conn, *, account_id: int, session_id: int) -> bool:
    """End one session of the account; False when it has no such live session."""
    done: str = await conn.execute(
        "UPDATE sessions SET revoked_at = now()"
        " WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL",
        session_id,
        account_id,
    )
    return done.endswith(" 1")


async def revoke_other_sessions(conn: Conn, *, account_id: int, keep_session_id: int) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = now()"
        " WHERE account_id = $1 AND id <> $2 AND revoked_at IS NULL",
        account_id,
        keep_session_id,
    )


async def revoke_session(conn: Conn, *, session_id: int) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", session_id
    )


async def revoke_all_sessions(conn: Conn, *, account_id: int) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL",
        account_id,
    )
