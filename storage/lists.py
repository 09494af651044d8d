"""SQL for lists: a person's lists, their members, and which lists an author's post reaches.

Every statement that reads or changes one list names its owner too, so someone else's
list is simply not found. The list timelines are in storage/list_timelines.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.accounts import ACCOUNT_COLUMNS, Account, account_from
from storage.db import Conn

_LIST_COLUMNS = "l.id, l.owner_id, l.title, l.replies_policy, l.exclusive, l.created_at"


@dataclass(frozen=True)
class ListRow:
    id: int
    owner_id: int
    title: str
    replies_policy: str  # followed | list | none
    exclusive: bool
    created_at: datetime


async def owned_lists(conn: Conn, *, owner_id: int) -> list[ListRow]:
    """The owner's lists, oldest first (as Mastodon lists them)."""
    rows = await conn.fetch(
        "SELECT " + _LIST_COLUMNS + " FROM lists l WHERE l.owner_id = $1 ORDER BY l.id", owner_id
    )
    return [ListRow(*row) for row in rows]


async def get_list(conn: Conn, *, list_id: int, owner_id: int) -> ListRow | None:
    """The list, when the owner owns it."""
    row = await conn.fetchrow(
        "SELECT " + _LIST_COLUMNS + " FROM lists l WHERE l.id = $1 AND l.owner_id = $2",
        list_id,
        owner_id,
    )
    return ListRow(*row) if row is not None else None


async def lock_list(conn: Conn, *, list_id: int, owner_id: int) -> bool:
    """Hold the owner's list until the transaction ends (so that the member count
    checked in it stays true); False when the owner has no such list."""
    found = await conn.fetchval(
        "SELECT 1 FROM lists WHERE id = $1 AND owner_id = $2 FOR NO KEY UPDATE",
        list_id,
        owner_id,
    )
    return found is not None


async def insert_list(
    conn: Conn, *, owner_id: int, title: str, replies_policy: str, exclusive: bool, most: int
) -> ListRow | None:
    """A new list; None when the owner already has `most` lists."""
    row = await conn.fetchrow(
        "INSERT INTO lists AS l (owner_id, title, replies_policy, exclusive)"
        " SELECT $1, $2, $3, $4 WHERE (SELECT count(*) FROM lists WHERE owner_id = $1) < $5"
        " RETURNING " + _LIST_COLUMNS,
        owner_id,
        title,
        replies_policy,
        exclusive,
        most,
    )
    return ListRow(*row) if row is not None else None


async def update_list(
    conn: Conn,
    *,
    list_id: int,
    owner_id: int,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> ListRow | None:
    """Change what is given (None: unchanged); None when the owner has no such list."""
    row = await conn.fetchrow(
        "UPDATE lists AS l SET title = coalesce($3, l.title),"
        " replies_policy = coalesce($4, l.replies_policy), exclusive = coalesce($5, l.exclusive),"
        " updated_at = now() WHERE l.id = $1 AND l.owner_id = $2 RETURNING " + _LIST_COLUMNS,
        list_id,
        owner_id,
        title,
        replies_policy,
        exclusive,
    )
    return ListRow(*row) if row is not None else None


async def delete_list(conn: Conn, *, list_id: int, owner_id: int) -> bool:
    """Delete the list (its members go with it); False when the owner has no such list."""
    result = await conn.execute(
        "DELETE FROM lists WHERE id = $1 AND owner_id = $2", list_id, owner_id
    )
    return result.endswith(" 1")


async def delete_owned(conn: Conn, *, owner_id: int) -> None:
    """Delete every list of an account (its deletion keeps the account row)."""
    await conn.execute("DELETE FROM lists WHERE owner_id = $1", owner_id)


# ---- members


async def followed_among(conn: Conn, *, owner_id: int, account_ids: list[int]) -> set[int]:
    """Those of `account_ids` the owner follows or asked to follow (who may be members)."""
    rows = await conn.fetch(
        "SELECT followee_id FROM follows WHERE follower_id = $1"
        " AND followee_id = ANY($2::bigint[])",
        owner_id,
        account_ids,
    )
    return {row["followee_id"] for row in rows}


async def members_among(conn: Conn, *, list_id: int, account_ids: list[int]) -> set[int]:
    rows = await conn.fetch(
        "SELECT account_id FROM list_members WHERE list_id = $1 AND account_id = ANY($2::bigint[])",
        list_id,
        account_ids,
    )
    return {row["account_id"] for row in rows}


async def member_count(conn: Conn, *, list_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM list_members WHERE list_id = $1", list_id
    )
    return count


async def add_members(conn: Conn, *, list_id: int, owner_id: int, account_ids: list[int]) -> None:
    """Add accounts the owner follows (the foreign key on follows refuses others)."""
    await conn.execute(
        "INSERT INTO list_members (list_id, owner_id, account_id)"
        " SELECT $1, $2, unnest($3::bigint[]) ON CONFLICT DO NOTHING",
        list_id,
        owner_id,
        account_ids,
    )


async def remove_members(
    conn: Conn, *, list_id: int, owner_id: int, account_ids: list[int]
) -> None:
    await conn.execute(
        "DELETE FROM list_members WHERE list_id = $1 AND owner_id = $2"
        " AND account_id = ANY($3::bigint[])",
        list_id,
        owner_id,
        account_ids,
    )


async def list_members(
    conn: Conn, *, list_id: int, since: int | None, until: int | None, limit: int | None
) -> list[Account]:
    """A page of the members, newest account id first, with ids in (since, until);
    every member when `limit` is None. Deleted and suspended accounts are left out."""
    rows = await conn.fetch(
        "SELECT " + ACCOUNT_COLUMNS + " FROM list_members m JOIN accounts a ON a.id = m.account_id"
        " WHERE m.list_id = $1 AND m.account_id > coalesce($2::bigint, 0)"
        " AND m.account_id < coalesce($3::bigint, 9223372036854775807)"
        " AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        " ORDER BY m.account_id DESC LIMIT $4",
        list_id,
        since,
        until,
        limit,
    )
    return [account_from(row) for row in rows]


async def lists_with_member(conn: Conn, *, owner_id: int, account_id: int) -> list[ListRow]:
    """The owner's lists the account is in, oldest first."""
    rows = await conn.fetch(
        "SELECT " + _LIST_COLUMNS + " FROM list_members m JOIN lists l ON l.id = m.list_id"
        " WHERE m.account_id = $1 AND m.owner_id = $2 ORDER BY l.id",
        account_id,
        owner_id,
    )
    return [ListRow(*row) for row in rows]


# ---- for streaming (stgy/domain/streaming.py)


async def lists_receiving(
    conn: Conn, *, author_id: int, owners: list[int]
) -> list[tuple[int, int]]:
    """(list id, owner id) of the lists among `owners`' lists that hold the author: the
    list streams a new post of the author's goes to (list_members_account_idx)."""
    rows = await conn.fetch(
        "SELECT list_id, owner_id FROM list_members WHERE account_id = $1"
        " AND owner_id = ANY($2::bigint[]) ORDER BY list_id",
        author_id,
        owners,
    )
    return [(row["list_id"], row["owner_id"]) for row in rows]


async def owner_of(conn: Conn, *, list_id: int) -> int | None:
    owner: int | None = await conn.fetchval("SELECT owner_id FROM lists WHERE id = $1", list_id)
    return owner
