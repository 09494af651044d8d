"""SQL for search: accounts by handle or name, tags by prefix, posts by full-text match."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class PostQuery:
    """A web-search style query as tsquery text (see migration 0018): `matching` finds
    the posts, `exact` (each CJK word as the phrase of its bigrams) ranks them; `exact`
    is None when it is the same query, so no ranking is needed. `matching` is empty when
    the query holds no word at all (only punctuation)."""

    matching: str
    exact: str | None


async def post_query(conn: Conn, *, text: str) -> PostQuery:
    row = await conn.fetchrow(
        "SELECT stgy_search_query($1, false)::text AS matching,"
        " stgy_search_query($1, true)::text AS exact",
        text,
    )
    assert row is not None  # noqa: S101
    matching, exact = str(row["matching"]), str(row["exact"])
    return PostQuery(matching, None if exact == matching else exact)


async def post_ids_matching(
    conn: Conn, *, query: PostQuery, viewer_id: int | None, until: int | None, limit: int
) -> list[int]:
    """Ids of public, live, original posts matching `query`, newest first; when the query
    tells exact matches apart, those first (newest first) and then the others.

    `until` is the id of the last post of the page before; with ranking, the next page
    goes on in the same order: exact matches older than it, then the others from the
    newest; or, when it was no exact match, the others older than it. Each part is one
    newest-first query, so PostgreSQL can walk the newest posts for common words
    instead of ranking every match.
    """
    if query.exact is None:
        return await _matching(conn, query.matching, None, viewer_id, until, limit)
    ids: list[int] = []
    if until is None or await _is_match(conn, until, query.exact):
        ids = await _matching(conn, query.exact, None, viewer_id, until, limit)
        until = None
    if len(ids) < limit:
        ids += await _matching(
            conn, query.matching, query.exact, viewer_id, until, limit - len(ids)
        )
    return ids


async def _is_match(conn: Conn, post_id: int, tsquery: str) -> bool:
    """Whether the post matches; a post no longer there counts as one (nothing is lost)."""
    found = await conn.fetchval(
        "SELECT search @@ $2::tsquery FROM posts WHERE id = $1", post_id, tsquery
    )
    return found is None or bool(found)


async def _matching(
    conn: Conn,
    tsquery: str,
    without: str | None,
    viewer_id: int | None,
    until: int | None,
    limit: int,
) -> list[int]:
    """Posts matching `tsquery` and not `without`, newest first.

    The conditions repeat posts_search_idx's predicate so the GIN index serves it;
    stgy_can_see drops posts across a block with the viewer. Limited accounts' posts are
    not found (as on the public timelines, docs/moderation.md).
    """
    rows = await conn.fetch(
        "SELECT p.id FROM posts p"
        " WHERE p.search @@ $1::tsquery"
        " AND ($5::tsquery IS NULL OR NOT p.search @@ $5::tsquery)"
        " AND p.deleted_at IS NULL AND p.visibility = 'public' AND p.share_of_id IS NULL"
        " AND ($3::bigint IS NULL OR p.id < $3)"
        " AND ($2::bigint IS NULL OR stgy_can_see(p.account_id, p.visibility, p.id, $2))"
        " AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id"
        "  AND a.suspended_at IS NULL AND a.deleted_at IS NULL AND a.limited_at IS NULL)"
        " ORDER BY p.id DESC LIMIT $4",
        tsquery,
        viewer_id,
        until,
        limit,
        without,
    )
    return [row["id"] for row in rows]
