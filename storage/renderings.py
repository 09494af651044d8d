"""SQL for rendered pages: a page of posts as JSON bytes, assembled in one statement from
the stored renderings of its posts and authors plus their live fields.

The renderings (tables post_renderings and account_renderings, see migration 0007)
are JSON objects left open; the page query closes each with the live fields in the
order of stgy/api/serializers.py: an account's posts_count, followers_count and
following_count; a post's account, share_of, replies_count, likes_count,
shares_count, liked, shared and bookmarked. A post whose rendering (or its author's,
or its shared original's) is missing or stale comes back in `missing` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class RenderedPage:
    """The page's posts as comma-separated JSON objects, in the order asked for."""

    body: bytes  # b"" when no post could be assembled
    newest: int | None  # the first and last post in `body`
    oldest: int | None
    missing: list[int]  # posts left out: a rendering is missing or stale


@dataclass(frozen=True)
class Rendering:
    """A rendering to store: the id of the post or account, the source row's version."""

    id: int
    version: datetime
    body: str


def _viewer_state(post: str, column: str, exists: str) -> str:
    return (
        ',"'
        + column
        + "\":' || CASE WHEN $2::bigint IS NULL THEN 'null' WHEN EXISTS ("
        + exists.replace("{p}", post)
        + ") THEN 'true' ELSE 'false' END || '"
    )


def _account_json(account: str, rendering: str) -> str:
    """SQL text of an account's JSON: its rendering closed with its live counts."""
    return (
        rendering + ".body || ',\"posts_count\":' || " + account + ".posts_count"
        " || ',\"followers_count\":' || " + account + ".followers_count"
        " || ',\"following_count\":' || " + account + ".following_count || '}'"
    )


def _post_json(post: str, rendering: str, account_json: str, share_of: str) -> str:
    """SQL text of a post's JSON (NULL when a rendering is missing: `||` keeps NULL)."""
    return (
        rendering + ".body || ',\"account\":' || " + account_json
        + " || ',\"share_of\":' || " + share_of
        + " || ',\"replies_count\":' || " + post + ".replies_count"
        " || ',\"likes_count\":' || " + post + ".likes_count"
        " || ',\"shares_count\":' || " + post + ".shares_count || '"
        + _viewer_state(post, "liked", "SELECT 1 FROM likes l WHERE l.account_id = $2"
                        " AND l.post_id = {p}.id")
        + _viewer_state(post, "shared", "SELECT 1 FROM posts s WHERE s.account_id = $2"
                        " AND s.share_of_id = {p}.id AND s.deleted_at IS NULL")
        + _viewer_state(post, "bookmarked", "SELECT 1 FROM bookmarks b"
                        " WHERE b.account_id = $2 AND b.post_id = {p}.id")
        + "}'"
    )  # fmt: skip


# The original a share shares (`o`, by `oa`), as share_of: its own share_of is null.
_ORIGINAL_JSON = (
    "CASE WHEN p.share_of_id IS NULL THEN 'null' ELSE "
    + _post_json("o", "o_r", _account_json("oa", "oa_r"), "'null'")
    + " END"
)
_PAGE_JSON = _post_json("p", "p_r", _account_json("pa", "pa_r"), _ORIGINAL_JSON)

# $1: the post ids in page order; $2: the viewer or NULL; $3: the serializer's format.
# Posts deleted since their ids were chosen (or sharing a deleted original) drop out.
_PAGE = (
    "WITH page AS (SELECT u.id, u.n FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, n)),"
    " rows AS MATERIALIZED (SELECT page.n, p.id, " + _PAGE_JSON + " AS json FROM page"
    " JOIN posts p ON p.id = page.id JOIN accounts pa ON pa.id = p.account_id"
    " LEFT JOIN post_renderings p_r ON p_r.post_id = p.id"
    "  AND p_r.version = coalesce(p.edited_at, p.created_at) AND p_r.format = $3"
    " LEFT JOIN account_renderings pa_r ON pa_r.account_id = pa.id"
    "  AND pa_r.version = pa.updated_at AND pa_r.format = $3"
    " LEFT JOIN posts o ON o.id = p.share_of_id LEFT JOIN accounts oa ON oa.id = o.account_id"
    " LEFT JOIN post_renderings o_r ON o_r.post_id = o.id"
    "  AND o_r.version = coalesce(o.edited_at, o.created_at) AND o_r.format = $3"
    " LEFT JOIN account_renderings oa_r ON oa_r.account_id = oa.id"
    "  AND oa_r.version = oa.updated_at AND oa_r.format = $3"
    " WHERE p.deleted_at IS NULL"
    "  AND (p.share_of_id IS NULL OR (o.id IS NOT NULL AND o.deleted_at IS NULL)))"
    " SELECT convert_to(coalesce(string_agg(json, ',' ORDER BY n), ''), 'UTF8') AS body,"
    " (array_agg(id ORDER BY n) FILTER (WHERE json IS NOT NULL))[1] AS newest,"
    " (array_agg(id ORDER BY n DESC) FILTER (WHERE json IS NOT NULL))[1] AS oldest,"
    " coalesce(array_agg(id ORDER BY n) FILTER (WHERE json IS NULL), '{}') AS missing"
    " FROM rows"
)


async def render_page(
    conn: Conn, *, post_ids: list[int], viewer_id: int | None, format: int
) -> RenderedPage:
    """The posts' JSON, in the order of `post_ids`, for the viewer (None: logged out)."""
    row = await conn.fetchrow(_PAGE, post_ids, viewer_id, format)
    assert row is not None  # noqa: S101 - an aggregate without GROUP BY returns one row
    return RenderedPage(row["body"], row["newest"], row["oldest"], list(row["missing"]))


async def store(
    conn: Conn, *, posts: list[Rendering], accounts: list[Rendering], format: int
) -> None:
    """Write renderings in one statement, replacing older ones. Rows are written in id
    order, so two requests filling overlapping pages at once never deadlock."""
    posts = sorted({r.id: r for r in posts}.values(), key=lambda r: r.id)
    accounts = sorted({r.id: r for r in accounts}.values(), key=lambda r: r.id)
    await conn.execute(
        "WITH p AS (INSERT INTO post_renderings (post_id, version, format, body)"
        "  SELECT u.id, u.version, $7, u.body"
        "  FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS u(id, version, body)"
        "  ON CONFLICT (post_id) DO UPDATE SET version = EXCLUDED.version,"
        "  format = EXCLUDED.format, body = EXCLUDED.body RETURNING 1)"
        " INSERT INTO account_renderings (account_id, version, format, body)"
        " SELECT u.id, u.version, $7, u.body"
        " FROM unnest($4::bigint[], $5::timestamptz[], $6::text[]) AS u(id, version, body)"
        " ON CONFLICT (account_id) DO UPDATE SET version = EXCLUDED.version,"
        " format = EXCLUDED.format, body = EXCLUDED.body",
        [r.id for r in posts],
        [r.version for r in posts],
        [r.body for r in posts],
        [r.id for r in accounts],
        [r.version for r in accounts],
        [r.body for r in accounts],
        format,
    )


# ---- dropping renderings (outbox handlers, `stgy reset-cache`)


async def drop_post(conn: Conn, *, post_id: int) -> None:
    await conn.execute("DELETE FROM post_renderings WHERE post_id = $1", post_id)


async def drop_account(conn: Conn, *, account_id: int) -> None:
    """The account's profile, and the posts that mention it (they show its handle)."""
    await conn.execute(
        "WITH a AS (DELETE FROM account_renderings WHERE account_id = $1)"
        " DELETE FROM post_renderings WHERE post_id IN"
        " (SELECT post_id FROM mentions WHERE account_id = $1)",
        account_id,
    )


async def drop_account_posts(conn: Conn, *, account_id: int) -> None:
    """Every post of an account (deleted accounts: their posts are tombstoned)."""
    await conn.execute(
        "DELETE FROM post_renderings WHERE post_id IN (SELECT id FROM posts WHERE account_id = $1)",
        account_id,
    )


async def drop_all(conn: Conn) -> int:
    """Empty both tables; the number of renderings dropped."""
    dropped: int = await conn.fetchval(
        "SELECT (SELECT count(*) FROM post_renderings) + (SELECT count(*) FROM account_renderings)"
    )
    await conn.execute("TRUNCATE post_renderings, account_renderings")
    return dropped
