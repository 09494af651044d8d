"""SQL for follows (pending and accepted), the follower counters and the account lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.accounts import ACCOUNT_COLUMNS, Account, account_from
from storage.db import Conn


@dataclass(frozen=True)
class Follow:
    follower_id: int
    followee_id: int
    state: str  # "pending" | "accepted"
    created_at: datetime
    accepted_at: datetime | None


_FOLLOW_COLUMNS = "follower_id, followee_id, state, created_at, accepted_at"


async def get_follow(conn: Conn, *, follower_id: int, followee_id: int) -> Follow | None:
    row = await conn.fetchrow(
        "SELECT " + _FOLLOW_COLUMNS + " FROM follows WHERE follower_id = $1 AND followee_id = $2",
        follower_id,
        followee_id,
    )
    return Follow(*row) if row else None


async def _count(conn: Conn, *, follower_id: int, followee_id: int, delta: int) -> None:
    # One statement for both rows, so the two counters change together.
    await conn.execute(
        "UPDATE accounts SET"
        " following_count = greatest(following_count + CASE WHEN id = $1 THEN $3 ELSE 0 END, 0),"
        " followers_count = greatest(followers_count + CASE WHEN id = $2 THEN $3 ELSE 0 END, 0)"
        " WHERE id IN ($1, $2)",
        follower_id,
        followee_id,
        delta,
    )


async def insert_follow(
    conn: Conn, *, follower_id: int, followee_id: int, state: str
) -> Follow | None:
    """Insert a follow (counting it when accepted); None when one already exists."""
    row = await conn.fetchrow(
        "INSERT INTO follows (follower_id, followee_id, state, accepted_at)"
        " VALUES ($1, $2, $3, CASE WHEN $3 = 'accepted' THEN now() END)"
        " ON CONFLICT (follower_id, followee_id) DO NOTHING RETURNING " + _FOLLOW_COLUMNS,
        follower_id,
        followee_id,
        state,
    )
    if row is None:
        return None
    if state == "accepted":
        await _count(conn, follower_id=follower_id, followee_id=followee_id, delta=1)
    return Follow(*row)


async def accept_follow(conn: Conn, *, follower_id: int, followee_id: int) -> bool:
    """Turn a pending follow into an accepted one (counting it); False when none was pending."""
    row = await conn.fetchrow(
        "UPDATE follows SET state = 'accepted', accepted_at = now()"
        " WHERE follower_id = $1 AND followee_id = $2 AND state = 'pending' RETURNING 1",
        follower_id,
        followee_id,
    )
    if row is None:
        return False
    await _count(conn, follower_id=follower_id, followee_id=followee_id, delta=1)
    return True


async def delete_follow(
    conn: Conn, *, follower_id: int, followee_id: int, only_pending: bool = False
) -> str | None:
    """Remove a follow (uncounting it when accepted); the state it had, or None when none."""
    state: str | None = await conn.fetchval(
        "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2"
        " AND (NOT $3 OR state = 'pending') RETURNING state",
        follower_id,
        followee_id,
        only_pending,
    )
    if state == "accepted":
        await _count(conn, follower_id=follower_id, followee_id=followee_id, delta=-1)
    return state


# Account lists are keyset pages on the other account's id, newest account first:
# the primary key (follower_id, followee_id) and follows_followee_idx serve them
# as index range scans whatever the number of follows.


def _list_following(order: str) -> str:
    return (
        "SELECT " + ACCOUNT_COLUMNS + " FROM follows f JOIN accounts a ON a.id = f.followee_id"
        " WHERE f.follower_id = $1 AND f.state = 'accepted'"
        " AND ($2::bigint IS NULL OR f.followee_id < $2)"
        " AND ($4::bigint IS NULL OR f.followee_id > $4)"
        " AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        + " ORDER BY f.followee_id"
        + order
        + " LIMIT $3"
    )


_FOLLOWING = {False: _list_following(" DESC"), True: _list_following(" ASC")}


async def list_following(
    conn: Conn,
    *,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> list[Account]:
    """Accounts this account follows in (since, until) by account id: the newest `limit`,
    newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_FOLLOWING[ascending], account_id, until, limit, since)
    return [account_from(row) for row in rows]


def _list_followers(order: str) -> str:
    return (
        "SELECT " + ACCOUNT_COLUMNS + " FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = $1 AND f.state = 'accepted'"
        " AND ($2::bigint IS NULL OR f.follower_id < $2)"
        " AND ($4::bigint IS NULL OR f.follower_id > $4)"
        " AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        + " ORDER BY f.follower_id"
        + order
        + " LIMIT $3"
    )


_FOLLOWERS = {False: _list_followers(" DESC"), True: _list_followers(" ASC")}


async def list_followers(
    conn: Conn,
    *,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> list[Account]:
    """This account's followers in (since, until) by account id: the newest `limit`,
    newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_FOLLOWERS[ascending], account_id, until, limit, since)
    return [account_from(row) for row in rows]


def _list_requests(order: str) -> str:
    return (
        "SELECT " + ACCOUNT_COLUMNS + " FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = $1 AND f.state = 'pending'"
        " AND ($2::bigint IS NULL OR f.follower_id < $2)"
        " AND ($4::bigint IS NULL OR f.follower_id > $4)"
        " AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        + " ORDER BY f.follower_id"
        + order
        + " LIMIT $3"
    )


_REQUESTS = {False: _list_requests(" DESC"), True: _list_requests(" ASC")}


async def list_requests(
    conn: Conn,
    *,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> list[Account]:
    """Accounts waiting for this account's approval in (since, until) by account id:
    the newest `limit`, newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_REQUESTS[ascending], account_id, until, limit, since)
    return [account_from(row) for row in rows]


async def lock_accepted(conn: Conn, *, follower_id: int, followee_id: int) -> bool:
    """Whether the follow is accepted, holding it until commit: an unfollow then waits, so
    work done for the follow (a backfill) is never left behind by a removal."""
    row = await conn.fetchrow(
        "SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2"
        " AND state = 'accepted' FOR SHARE",
        follower_id,
        followee_id,
    )
    return row is not None


def pending_requests_sql(account: str) -> str:
    """A scalar subquery: the follow requests waiting for `account` (an SQL expression),
    from live accounts, as `list_requests` lists them (on the partial index of pending
    follows)."""
    return (
        "(SELECT count(*) FROM follows f JOIN accounts fa ON fa.id = f.follower_id"
        " WHERE f.followee_id = " + account + " AND f.state = 'pending'"
        " AND fa.deleted_at IS NULL AND fa.suspended_at IS NULL)"
    )


async def pending_follow_requests(conn: Conn, *, account_id: int) -> int:
    """How many follow requests wait for the account's answer."""
    found: int = await conn.fetchval("SELECT " + pending_requests_sql("$1"), account_id)
    return found
