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

from asyncpg import Record

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


def _state(exists: str, viewer: str) -> str:
    return (
        "CASE WHEN " + viewer + "::bigint IS NULL THEN 'null' WHEN " + exists + " THEN 'true'"
        " ELSE 'false' END"
    )


def _post_json(
    post: str, author: str, author_r: str, share_of: str, states: tuple[str, str, str], viewer: str
) -> str:
    """SQL text of a post's JSON: its rendering (`{post}_r`) and its author's (`author_r`)
    closed with the live fields (of `post` and `author`). One concat() call, as `||`
    would copy the growing text once per piece."""
    liked, shared, marked = states
    return (
        "concat(" + post + "_r.body, ',\"account\":', " + author_r + ".body,"
        " ',\"posts_count\":', " + author + ".posts_count,"
        " ',\"followers_count\":', " + author + ".followers_count,"
        " ',\"following_count\":', " + author + ".following_count,"
        " '},\"share_of\":', " + share_of + ","
        " ',\"replies_count\":', " + post + ".replies_count,"
        " ',\"likes_count\":', " + post + ".likes_count,"
        " ',\"shares_count\":', " + post + ".shares_count,"
        " ',\"liked\":', " + _state(liked, viewer) + ","
        " ',\"shared\":', " + _state(shared, viewer) + ","
        " ',\"bookmarked\":', " + _state(marked, viewer) + ", '}')"
    )  # fmt: skip


def _current(rendering: str, key: str, row: str, version: str, fmt: str) -> str:
    """Join a row's rendering, if it was made from this version by this serializer."""
    return (
        " LEFT JOIN " + rendering + " " + row + "_r ON " + row + "_r." + key + " = " + row + ".id"
        " AND " + row + "_r.version = " + version + " AND " + row + "_r.format = " + fmt
    )


def _original(viewer: str, fmt: str) -> str:
    """The original a share shares (`o`, by `oa`), as share_of (whose own share_of is
    null); NULL when a rendering is missing. Only shares run it, and the viewer's state
    of an original is looked up on its own (the page's states are gathered for its own
    ids)."""
    states = (
        "EXISTS (SELECT 1 FROM likes l WHERE l.account_id = " + viewer + " AND l.post_id = o.id)",
        "EXISTS (SELECT 1 FROM posts s WHERE s.account_id = " + viewer + " AND"
        " s.share_of_id = o.id AND s.deleted_at IS NULL)",
        "EXISTS (SELECT 1 FROM bookmarks b WHERE b.account_id = " + viewer + " AND"
        " b.post_id = o.id)",
    )
    return (
        " LEFT JOIN LATERAL (SELECT "
        + _post_json("o", "oa", "oa_r", "'null'", states, viewer)
        + " AS json FROM posts o JOIN accounts oa ON oa.id = o.account_id"
        + _current("post_renderings", "post_id", "o", "coalesce(o.edited_at, o.created_at)", fmt)
        + _current("account_renderings", "account_id", "oa", "oa.updated_at", fmt)
        + " WHERE p.share_of_id IS NOT NULL AND o.id = p.share_of_id"
        " AND o_r.body IS NOT NULL AND oa_r.body IS NOT NULL OFFSET 0) orig ON true"
    )


def _page_json(author: str, viewer: str) -> str:
    """A page post's JSON, NULL when a rendering is missing (concat() would skip NULLs)."""
    return (
        "CASE WHEN p_r.body IS NULL OR pa_r.body IS NULL"
        " OR (p.share_of_id IS NOT NULL AND orig.json IS NULL) THEN NULL ELSE "
        + _post_json(
            "p",
            author,
            "pa_r",
            "coalesce(orig.json, 'null')",
            ("p.id = ANY(m.liked)", "p.id = ANY(m.shared)", "p.id = ANY(m.bookmarked)"),
            viewer,
        )
        + " END"
    )


def _states(ids: str, viewer: str) -> str:
    """`m`: the viewer's likes, shares and bookmarks among the page's posts as three
    arrays, one index scan each rather than a lookup per post."""
    return (
        " m AS (SELECT ARRAY(SELECT post_id FROM likes WHERE account_id = " + viewer + ""
        "  AND post_id = ANY(" + ids + ")) AS liked,"
        " ARRAY(SELECT share_of_id FROM posts WHERE account_id = " + viewer + ""
        "  AND share_of_id IS NOT NULL AND deleted_at IS NULL"
        "  AND share_of_id = ANY(" + ids + ")) AS shared,"
        " ARRAY(SELECT post_id FROM bookmarks WHERE account_id = " + viewer + ""
        "  AND post_id = ANY(" + ids + ")) AS bookmarked)"
    )


def _aggregate(order: str, reverse: str) -> str:
    """The page's JSON and cursors from `rows` (id, json) in `order` (`reverse`: backwards)."""
    return (
        " SELECT convert_to(coalesce(string_agg(json, ',' ORDER BY " + order + "), ''), 'UTF8')"
        " AS body, (array_agg(id ORDER BY " + order + ") FILTER (WHERE json IS NOT NULL))[1]"
        " AS newest, (array_agg(id ORDER BY " + reverse + ") FILTER (WHERE json IS NOT NULL))[1]"
        " AS oldest, coalesce(array_agg(id ORDER BY " + order + ") FILTER (WHERE json IS NULL),"
        " '{}') AS missing"
    )  # fmt: skip


# $1: the post ids in page order; $2: the viewer or NULL; $3: the serializer's format.
# Posts deleted since their ids were chosen (or sharing a deleted original) drop out.
_PAGE = (
    "WITH page AS (SELECT u.id, u.n FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, n)),"
    + _states("$1::bigint[]", "$2")
    + ", rows AS MATERIALIZED (SELECT page.n, p.id, "
    + _page_json("pa", "$2")
    + " AS json FROM page JOIN posts p ON p.id = page.id JOIN accounts pa ON pa.id = p.account_id"
    " CROSS JOIN m"
    + _current("post_renderings", "post_id", "p", "coalesce(p.edited_at, p.created_at)", "$3")
    + _current("account_renderings", "account_id", "pa", "pa.updated_at", "$3")
    + _original("$2", "$3")
    + " WHERE p.deleted_at IS NULL AND (p.share_of_id IS NULL OR EXISTS (SELECT 1 FROM posts x"
    "  WHERE x.id = p.share_of_id AND x.deleted_at IS NULL)))"
    + _aggregate("n", "n DESC")
    + " FROM rows"
)

# What a page's source (`page_statement`) selects of each post `p` and its author `pa`.
PAGE_COLUMNS = (
    " p.id, p.account_id, p.share_of_id, p.replies_count, p.likes_count, p.shares_count,"
    " coalesce(p.edited_at, p.created_at) AS version, pa.posts_count, pa.followers_count,"
    " pa.following_count, pa.updated_at AS account_version"
)


def page_statement(ctes: str, viewer: str, fmt: str, columns: str = "") -> str:
    """One statement that chooses a page and assembles it: `ctes` ends with `page`, the
    page's posts newest first as PAGE_COLUMNS (already filtered for the viewer, in this
    statement's snapshot, so nothing chosen can have gone since). Each post and author
    row is read once, by the source; then each post's rendering and its author's.
    `columns`: more output columns (`, expr AS name`) after body, newest, oldest,
    missing and ids."""
    return (
        "WITH " + ctes + ", ids AS (SELECT coalesce(array_agg(id ORDER BY id DESC), '{}') AS ids"
        " FROM page),"
        + _states("(SELECT ids FROM ids)::bigint[]", viewer)
        + ", rows AS MATERIALIZED (SELECT p.id, "
        + _page_json("p", viewer)
        + " AS json"
        " FROM page p CROSS JOIN m"
        " LEFT JOIN post_renderings p_r ON p_r.post_id = p.id AND p_r.version = p.version"
        "  AND p_r.format = " + fmt + ""
        " LEFT JOIN account_renderings pa_r ON pa_r.account_id = p.account_id"
        "  AND pa_r.version = p.account_version AND pa_r.format = "
        + fmt
        + ""
        + _original(viewer, fmt)
        + ")"
        + _aggregate("id DESC", "id")
        + ", (SELECT ids FROM ids) AS ids"
        + columns
        + " FROM rows"
    )


@dataclass(frozen=True)
class ChosenPage:
    """A page chosen and assembled in one statement, with every post id chosen (newest
    first), those left out as `rendered.missing` included."""

    rendered: RenderedPage
    ids: list[int]


def chosen_page(row: Record | None) -> ChosenPage:
    """The row of a `page_statement`."""
    assert row is not None  # noqa: S101 - an aggregate without GROUP BY returns one row
    rendered = RenderedPage(row["body"], row["newest"], row["oldest"], list(row["missing"]))
    return ChosenPage(rendered, list(row["ids"]))


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
