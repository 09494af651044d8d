"""SQL for moderators' account actions (migration 0023): the accounts list and page, limit,
sensitize, suspend and its sweep, applicants, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Conn


@dataclass(frozen=True)
class ModeratedAccount:
    """An account as moderators see it; the user columns are None for remote accounts."""

    id: int
    handle: str
    domain: str | None
    display_name: str
    ap_id: str
    url: str | None
    posts_count: int
    followers_count: int
    following_count: int
    created_at: datetime
    suspended_at: datetime | None
    limited_at: datetime | None
    sensitized_at: datetime | None
    deleted_at: datetime | None
    suspension_announced_at: datetime | None
    role: str | None
    approved: bool | None
    email: str | None
    registration_reason: str | None

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        return self.handle if self.domain is None else f"{self.handle}@{self.domain}"

    @property
    def state(self) -> str:
        """deleted, suspended, pending, limited or active (the first that holds)."""
        if self.deleted_at is not None:
            return "deleted"
        if self.suspended_at is not None:
            return "suspended"
        if self.approved is False:
            return "pending"
        if self.limited_at is not None:
            return "limited"
        return "active"


_COLUMNS = (
    "a.id, a.handle, a.domain, a.display_name, a.ap_id, a.url, a.posts_count,"
    " a.followers_count, a.following_count, a.created_at, a.suspended_at, a.limited_at,"
    " a.sensitized_at, a.deleted_at, a.suspension_announced_at, u.role, u.approved, u.email,"
    " u.registration_reason FROM accounts a LEFT JOIN users u ON u.account_id = a.id"
)

# $2 origin ('local', 'remote' or NULL), $3 state (as ModeratedAccount.state, or NULL).
_STATE_FILTER = (
    " AND ($2::text IS NULL OR ($2 = 'local') = (a.domain IS NULL))"
    " AND ($3::text IS NULL"
    "  OR ($3 = 'deleted' AND a.deleted_at IS NOT NULL)"
    "  OR ($3 = 'suspended' AND a.deleted_at IS NULL AND a.suspended_at IS NOT NULL)"
    "  OR ($3 = 'pending' AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
    "      AND u.approved IS FALSE)"
    "  OR ($3 = 'limited' AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
    "      AND u.approved IS NOT FALSE AND a.limited_at IS NOT NULL)"
    "  OR ($3 = 'active' AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
    "      AND u.approved IS NOT FALSE AND a.limited_at IS NULL))"
)


def _account(row: Any) -> ModeratedAccount:
    return ModeratedAccount(*row)


async def search(
    conn: Conn,
    *,
    query: str,
    origin: str | None,
    state: str | None,
    limit: int,
    offset: int,
) -> list[ModeratedAccount]:
    """Accounts whose handle, handle@domain or domain holds `query` (case-insensitively;
    empty: all), newest first."""
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + " WHERE ($1 = '' OR strpos(lower(a.handle || '@'"
        " || coalesce(a.domain, '')), lower($1)) > 0)" + _STATE_FILTER + " ORDER BY a.id DESC"
        " LIMIT $4 OFFSET $5",
        query,
        origin,
        state,
        limit,
        offset,
    )
    return [_account(row) for row in rows]


async def get(conn: Conn, *, account_id: int, lock: bool = False) -> ModeratedAccount | None:
    row = await conn.fetchrow(
        "SELECT " + _COLUMNS + " WHERE a.id = $1" + (" FOR UPDATE OF a" if lock else ""),
        account_id,
    )
    return _account(row) if row else None


async def staff_role(conn: Conn, *, account_id: int) -> str | None:
    """The role of a live, approved local account (None: suspended, deleted, pending)."""
    role: str | None = await conn.fetchval(
        "SELECT u.role FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE u.account_id = $1 AND u.approved AND a.suspended_at IS NULL"
        " AND a.deleted_at IS NULL",
        account_id,
    )
    return role


async def set_limited(conn: Conn, *, account_id: int, limited: bool) -> bool:
    """True when this changed the account."""
    result = await conn.execute(
        "UPDATE accounts SET limited_at = CASE WHEN $2 THEN now() END, updated_at = now()"
        " WHERE id = $1 AND (limited_at IS NOT NULL) <> $2",
        account_id,
        limited,
    )
    return result.endswith(" 1")


async def set_sensitized(conn: Conn, *, account_id: int, sensitized: bool) -> bool:
    """Mark (or unmark) the account sensitive; marking also makes its posts sensitive
    (the trigger of migration 0023 does it for later ones). Unmarking leaves posts as
    they are: their authors may have marked them themselves."""
    result = await conn.execute(
        "UPDATE accounts SET sensitized_at = CASE WHEN $2 THEN now() END, updated_at = now()"
        " WHERE id = $1 AND (sensitized_at IS NOT NULL) <> $2",
        account_id,
        sensitized,
    )
    if not result.endswith(" 1"):
        return False
    if sensitized:
        await conn.execute(
            "UPDATE posts SET sensitive = true, render_rev = render_rev + 1"
            " WHERE account_id = $1 AND NOT sensitive",
            account_id,
        )
    return True


async def set_suspended(conn: Conn, *, account_id: int, suspended: bool) -> bool:
    """Suspend (or lift) a local or remote account; a new suspension starts its grace
    period again. True when this changed the account."""
    result = await conn.execute(
        "UPDATE accounts SET suspended_at = CASE WHEN $2 THEN now() END,"
        " suspension_announced_at = NULL, updated_at = now()"
        " WHERE id = $1 AND deleted_at IS NULL AND (suspended_at IS NOT NULL) <> $2",
        account_id,
        suspended,
    )
    return result.endswith(" 1")


async def claim_announcement(conn: Conn, *, account_id: int, grace_seconds: float) -> bool:
    """Mark a local suspension as announced once its grace period is over; True once."""
    claimed = await conn.fetchval(
        "UPDATE accounts SET suspension_announced_at = now() WHERE id = $1 AND domain IS NULL"
        " AND deleted_at IS NULL AND suspended_at IS NOT NULL"
        " AND suspension_announced_at IS NULL"
        " AND suspended_at <= now() - $2::float8 * interval '1 second' RETURNING id",
        account_id,
        grace_seconds,
    )
    return claimed is not None


async def due_announcements(conn: Conn, *, grace_seconds: float, limit: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT id FROM accounts WHERE domain IS NULL AND deleted_at IS NULL"
        " AND suspended_at IS NOT NULL AND suspension_announced_at IS NULL"
        " AND suspended_at <= now() - $1::float8 * interval '1 second'"
        " ORDER BY suspended_at LIMIT $2",
        grace_seconds,
        limit,
    )
    return [row["id"] for row in rows]


async def due_purges(conn: Conn, *, days: float, limit: int) -> list[int]:
    """Local accounts suspended for longer than `days`, not yet deleted."""
    rows = await conn.fetch(
        "SELECT id FROM accounts WHERE domain IS NULL AND deleted_at IS NULL"
        " AND suspended_at IS NOT NULL AND suspended_at <= now() - $1::float8 * interval '1 day'"
        " ORDER BY suspended_at LIMIT $2",
        days,
        limit,
    )
    return [row["id"] for row in rows]


async def remove_from_timelines(conn: Conn, *, author_id: int) -> int:
    """The author's posts and shares in the home timelines of its followers (by the
    (owner, author) index; call it before the follows go). Pages also skip suspended
    authors' posts wherever they are. How many entries went."""
    result = await conn.execute(
        "DELETE FROM timeline_entries WHERE author_id = $1 AND owner_id IN"
        " (SELECT follower_id FROM follows WHERE followee_id = $1)",
        author_id,
    )
    return int(result.split()[-1])


async def local_follow_pairs(conn: Conn, *, account_id: int) -> list[tuple[int, int]]:
    """(follower, followee) of every follow, in either state, between the account and
    local accounts."""
    rows = await conn.fetch(
        "SELECT f.follower_id, f.followee_id FROM follows f"
        " JOIN accounts fa ON fa.id = f.follower_id JOIN accounts fe ON fe.id = f.followee_id"
        " WHERE (f.followee_id = $1 AND fa.domain IS NULL)"
        " OR (f.follower_id = $1 AND fe.domain IS NULL)",
        account_id,
    )
    return [(row[0], row[1]) for row in rows]


async def approve(conn: Conn, *, account_id: int) -> bool:
    result = await conn.execute(
        "UPDATE users SET approved = true WHERE account_id = $1 AND NOT approved", account_id
    )
    return result.endswith(" 1")


async def delete_applicant(conn: Conn, *, account_id: int) -> bool:
    """Remove a refused applicant's rows for good (their handle and address are free
    again); only an account still waiting for approval."""
    result = await conn.execute(
        "DELETE FROM accounts a USING users u WHERE a.id = $1 AND u.account_id = a.id"
        " AND a.domain IS NULL AND NOT u.approved",
        account_id,
    )
    return result.endswith(" 1")


async def staff(conn: Conn) -> list[ModeratedAccount]:
    """Local accounts holding a role above `user`, admins first."""
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + " WHERE u.role <> 'user' AND a.deleted_at IS NULL"
        " ORDER BY u.role = 'admin' DESC, lower(a.handle)"
    )
    return [_account(row) for row in rows]


async def count_admins(conn: Conn) -> int:
    """Live admins (not suspended, not deleted)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE u.role = 'admin' AND a.suspended_at IS NULL AND a.deleted_at IS NULL"
    )
    return count


async def lock_roles(conn: Conn) -> None:
    """Serialise role changes until the transaction ends (the last admin check)."""
    await conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")


async def is_suspended(conn: Conn, *, account_id: int) -> bool:
    suspended: bool | None = await conn.fetchval(
        "SELECT suspended_at IS NOT NULL FROM accounts WHERE id = $1", account_id
    )
    return bool(suspended)
