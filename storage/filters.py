"""SQL for a person's filters (Mastodon's): the filters, their keywords and filtered posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from storage.db import Conn


@dataclass(frozen=True)
class FilterKeyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True)
class FilterPost:
    id: int
    filter_id: int
    post_id: int


@dataclass(frozen=True)
class Filter:
    id: int
    account_id: int
    title: str
    context: tuple[str, ...]  # of home, notifications, public, thread, account
    action: str  # warn | hide
    expires_at: datetime | None
    keywords: tuple[FilterKeyword, ...]
    posts: tuple[FilterPost, ...]


# $1 the owner, $2 one filter or NULL for all, $3 only those not expired. Each filter's
# keywords and posts come along as JSON arrays, so a person's filters are one statement.
_FILTERS = (
    "SELECT f.id, f.account_id, f.title, f.context, f.action, f.expires_at,"
    " (SELECT coalesce(jsonb_agg(jsonb_build_array(k.id::text, k.keyword, k.whole_word)"
    "   ORDER BY k.id), '[]') FROM filter_keywords k WHERE k.filter_id = f.id),"
    " (SELECT coalesce(jsonb_agg(jsonb_build_array(s.id::text, s.post_id::text)"
    "   ORDER BY s.id), '[]') FROM filter_posts s WHERE s.filter_id = f.id)"
    " FROM filters f WHERE f.account_id = $1 AND ($2::bigint IS NULL OR f.id = $2)"
    " AND (NOT $3 OR f.expires_at IS NULL OR f.expires_at > now()) ORDER BY f.id"
)


def _filter(row: Any) -> Filter:
    filter_id = row[0]
    keywords = tuple(FilterKeyword(int(k[0]), filter_id, k[1], k[2]) for k in orjson.loads(row[6]))
    posts = tuple(FilterPost(int(p[0]), filter_id, int(p[1])) for p in orjson.loads(row[7]))
    return Filter(filter_id, row[1], row[2], tuple(row[3]), row[4], row[5], keywords, posts)


async def list_filters(conn: Conn, *, account_id: int, active_only: bool) -> list[Filter]:
    """The person's filters, oldest first; `active_only`: those not expired."""
    rows = await conn.fetch(_FILTERS, account_id, None, active_only)
    return [_filter(row) for row in rows]


async def get_filter(conn: Conn, *, account_id: int, filter_id: int) -> Filter | None:
    row = await conn.fetchrow(_FILTERS, account_id, filter_id, False)
    return None if row is None else _filter(row)


async def count_filters(conn: Conn, *, account_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM filters WHERE account_id = $1", account_id
    )
    return count


async def create_filter(
    conn: Conn,
    *,
    account_id: int,
    title: str,
    context: list[str],
    action: str,
    expires_at: datetime | None,
) -> int:
    filter_id: int = await conn.fetchval(
        "INSERT INTO filters (account_id, title, context, action, expires_at)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        account_id,
        title,
        context,
        action,
        expires_at,
    )
    return filter_id


async def update_filter(
    conn: Conn,
    *,
    filter_id: int,
    title: str,
    context: list[str],
    action: str,
    expires_at: datetime | None,
) -> None:
    await conn.execute(
        "UPDATE filters SET title = $2, context = $3, action = $4, expires_at = $5,"
        " updated_at = now() WHERE id = $1",
        filter_id,
        title,
        context,
        action,
        expires_at,
    )


async def delete_filter(conn: Conn, *, account_id: int, filter_id: int) -> bool:
    """Delete the filter (its keywords and posts with it); False when it is not theirs."""
    deleted = await conn.fetchval(
        "DELETE FROM filters WHERE id = $1 AND account_id = $2 RETURNING id",
        filter_id,
        account_id,
    )
    return deleted is not None


# ---- keywords


async def add_keyword(
    conn: Conn, *, filter_id: int, keyword: str, whole_word: bool
) -> FilterKeyword:
    keyword_id: int = await conn.fetchval(
        "INSERT INTO filter_keywords (filter_id, keyword, whole_word) VALUES ($1, $2, $3)"
        " RETURNING id",
        filter_id,
        keyword,
        whole_word,
    )
    return FilterKeyword(keyword_id, filter_id, keyword, whole_word)


async def get_keyword(conn: Conn, *, account_id: int, keyword_id: int) -> FilterKeyword | None:
    """The keyword, when it belongs to one of the person's filters."""
    row = await conn.fetchrow(
        "SELECT k.id, k.filter_id, k.keyword, k.whole_word FROM filter_keywords k"
        " JOIN filters f ON f.id = k.filter_id WHERE k.id = $1 AND f.account_id = $2",
        keyword_id,
        account_id,
    )
    return None if row is None else FilterKeyword(*row)


async def keyword_of_filter(conn: Conn, *, filter_id: int, keyword_id: int) -> FilterKeyword | None:
    row = await conn.fetchrow(
        "SELECT id, filter_id, keyword, whole_word FROM filter_keywords"
        " WHERE id = $1 AND filter_id = $2",
        keyword_id,
        filter_id,
    )
    return None if row is None else FilterKeyword(*row)


async def update_keyword(
    conn: Conn, *, keyword_id: int, filter_id: int, keyword: str, whole_word: bool
) -> FilterKeyword | None:
    """Change a keyword of this filter; None when the filter has no such keyword."""
    row = await conn.fetchrow(
        "UPDATE filter_keywords SET keyword = $3, whole_word = $4"
        " WHERE id = $1 AND filter_id = $2 RETURNING id, filter_id, keyword, whole_word",
        keyword_id,
        filter_id,
        keyword,
        whole_word,
    )
    return None if row is None else FilterKeyword(*row)


async def delete_keyword(conn: Conn, *, keyword_id: int, filter_id: int) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM filter_keywords WHERE id = $1 AND filter_id = $2 RETURNING id",
        keyword_id,
        filter_id,
    )
    return deleted is not None


async def count_keywords(conn: Conn, *, filter_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM filter_keywords WHERE filter_id = $1", filter_id
    )
    return count


# ---- filtered posts


async def add_post(conn: Conn, *, filter_id: int, post_id: int) -> FilterPost | None:
    """Add the post to the filter; None when it is there already."""
    row = await conn.fetchrow(
        "INSERT INTO filter_posts (filter_id, post_id) VALUES ($1, $2)"
        " ON CONFLICT (filter_id, post_id) DO NOTHING RETURNING id, filter_id, post_id",
        filter_id,
        post_id,
    )
    return None if row is None else FilterPost(*row)


async def get_post(conn: Conn, *, account_id: int, filter_post_id: int) -> FilterPost | None:
    """The filtered post, when it belongs to one of the person's filters."""
    row = await conn.fetchrow(
        "SELECT s.id, s.filter_id, s.post_id FROM filter_posts s"
        " JOIN filters f ON f.id = s.filter_id WHERE s.id = $1 AND f.account_id = $2",
        filter_post_id,
        account_id,
    )
    return None if row is None else FilterPost(*row)


async def delete_post(conn: Conn, *, filter_post_id: int) -> None:
    await conn.execute("DELETE FROM filter_posts WHERE id = $1", filter_post_id)


async def count_posts(conn: Conn, *, filter_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM filter_posts WHERE filter_id = $1", filter_id
    )
    return count
