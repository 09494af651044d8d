"""SQL for search: accounts by handle or name, tags by prefix, posts by full-text match."""

from __future__ import annotations

from storage.accounts import ACCOUNT_COLUMNS, Account, account_from
from storage.db import Conn


def like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with `text` (its wildcards escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def accounts_by_prefix(conn: Conn, *, text: str, limit: int) -> list[Account]:
    """Active accounts whose handle starts with `text`, or whose display name or one of
    its words does (case-insensitively): exact handles first, then local, then popular."""
    prefix = like_prefix(text.lower())
    rows = await conn.fetch(
        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a"
        " WHERE a.suspended_at IS NULL AND a.deleted_at IS NULL"
        " AND (lower(a.handle) LIKE $1 OR lower(a.display_name) LIKE $1"
        "  OR lower(a.display_name) LIKE '% ' || $1)"
        " ORDER BY lower(a.handle) = lower($2) DESC, a.domain IS NULL DESC,"
        " a.followers_count DESC, a.id"
        " LIMIT $3",
        prefix,
        text,
        limit,
    )
    return [account_from(row) for row in rows]


async def account_by_acct(conn: Conn, *, handle: str, domain: str | None) -> Account | None:
    """The active account with exactly this handle (case-insensitive) and domain."""
    row = await conn.fetchrow(
        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a"
        " WHERE lower(a.handle) = lower($1) AND coalesce(a.domain, '') = coalesce($2, '')"
        " AND a.suspended_at IS NULL AND a.deleted_at IS NULL",
        handle,
        domain,
    )
    return account_from(row) if row else None


async def tags_by_prefix(conn: Conn, *, prefix: str, limit: int) -> list[str]:
    """Tag names starting with `prefix` (already lower case): exact first, then recent."""
    rows = await conn.fetch(
        "SELECT name FROM tags WHERE name LIKE $1"
        " ORDER BY name = $2 DESC, last_used_at DESC, name LIMIT $3",
        like_prefix(prefix),
        prefix,
        limit,
    )
    return [row["name"] for row in rows]


async def post_ids_matching(
    conn: Conn, *, query: str, viewer_id: int | None, until: int | None, limit: int
) -> list[int]:
    """Ids of public, live, original posts matching a web-search style query, newest first.

    The conditions repeat posts_search_idx's predicate so the GIN index serves it;
    stgy_can_see drops posts across a block with the viewer.
    """
    rows = await conn.fetch(
        "SELECT p.id FROM posts p"
        " WHERE p.search @@ websearch_to_tsquery('simple', $1)"
        " AND p.deleted_at IS NULL AND p.visibility = 'public' AND p.share_of_id IS NULL"
        " AND ($3::bigint IS NULL OR p.id < $3)"
        " AND ($2::bigint IS NULL OR stgy_can_see(p.account_id, p.visibility, p.id, $2))"
        " AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id"
        "  AND a.suspended_at IS NULL AND a.deleted_at IS NULL)"
        " ORDER BY p.id DESC LIMIT $4",
        query,
        viewer_id,
        until,
        limit,
    )
    return [row["id"] for row in rows]
