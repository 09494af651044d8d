"""SQL for blocks and mutes between accounts."""

from __future__ import annotations

from dataclasses import dataclass

from storage.accounts import ACCOUNT_COLUMNS, Account, account_from
from storage.db import Conn


async def insert_block(conn: Conn, *, account_id: int, target_id: int) -> bool:
    """Block `target_id`; False when the block already existed."""
    row = await conn.fetchrow(
        "INSERT INTO blocks (account_id, target_id) VALUES ($1, $2)"
        " ON CONFLICT (account_id, target_id) DO NOTHING RETURNING 1",
        account_id,
        target_id,
    )
    return row is not None


async def delete_block(conn: Conn, *, account_id: int, target_id: int) -> bool:
    row = await conn.fetchrow(
        "DELETE FROM blocks WHERE account_id = $1 AND target_id = $2 RETURNING 1",
        account_id,
        target_id,
    )
    return row is not None


async def blocked_either_way(conn: Conn, *, account_id: int, other_id: int) -> bool:
    blocked: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_id = $2)"
        " OR (account_id = $2 AND target_id = $1))",
        account_id,
        other_id,
    )
    return blocked


async def insert_mute(conn: Conn, *, account_id: int, target_id: int) -> bool:
    row = await conn.fetchrow(
        "INSERT INTO mutes (account_id, target_id) VALUES ($1, $2)"
        " ON CONFLICT (account_id, target_id) DO NOTHING RETURNING 1",
        account_id,
        target_id,
    )
    return row is not None


async def delete_mute(conn: Conn, *, account_id: int, target_id: int) -> bool:
    row = await conn.fetchrow(
        "DELETE FROM mutes WHERE account_id = $1 AND target_id = $2 RETURNING 1",
        account_id,
        target_id,
    )
    return row is not None


# Lists are keyset pages on the target's id (the primary key's second column).


def _list_blocked(order: str) -> str:
    return (
        "SELECT " + ACCOUNT_COLUMNS + " FROM blocks b JOIN accounts a ON a.id = b.target_id"
        " WHERE b.account_id = $1"
        " AND ($2::bigint IS NULL OR b.target_id < $2)"
        " AND ($4::bigint IS NULL OR b.target_id > $4)"
        " ORDER BY b.target_id" + order + " LIMIT $3"
    )


_BLOCKED = {False: _list_blocked(" DESC"), True: _list_blocked(" ASC")}


async def list_blocked(
    conn: Conn,
    *,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> list[Account]:
    """Accounts this account blocks in (since, until) by account id: the newest `limit`,
    newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_BLOCKED[ascending], account_id, until, limit, since)
    return [account_from(row) for row in rows]


def _list_muted(order: str) -> str:
    return (
        "SELECT " + ACCOUNT_COLUMNS + " FROM mutes m JOIN accounts a ON a.id = m.target_id"
        " WHERE m.account_id = $1"
        " AND ($2::bigint IS NULL OR m.target_id < $2)"
        " AND ($4::bigint IS NULL OR m.target_id > $4)"
        " ORDER BY m.target_id" + order + " LIMIT $3"
    )


_MUTED = {False: _list_muted(" DESC"), True: _list_muted(" ASC")}


async def list_muted(
    conn: Conn,
    *,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> list[Account]:
    """Accounts this account mutes in (since, until) by account id: the newest `limit`,
    newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_MUTED[ascending], account_id, until, limit, since)
    return [account_from(row) for row in rows]


@dataclass(frozen=True)
class Relationship:
    """What an account has to do with another, as its profile page shows it."""

    following: str | None  # "pending" | "accepted" | None
    followed_by: bool
    blocking: bool
    muting: bool


async def relationship(conn: Conn, *, account_id: int, target_id: int) -> Relationship:
    row = await conn.fetchrow(
        "SELECT (SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2),"
        " EXISTS (SELECT 1 FROM follows WHERE follower_id = $2 AND followee_id = $1"
        " AND state = 'accepted'),"
        " EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_id = $2),"
        " EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_id = $2)",
        account_id,
        target_id,
    )
    assert row is not None  # noqa: S101 - a SELECT without FROM always has its one row
    return Relationship(row[0], row[1], row[2], row[3])
