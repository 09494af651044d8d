"""SQL for rendered pages: what a page needs to be assembled from the renderings of its
posts and authors, and the stored renderings themselves.

A page's statement returns a row per post with the versions its renderings must have
and the live fields that each page adds (counts, the viewer's own state); the app
assembles the JSON from the renderings it keeps in memory (stgy/page_cache.py), or
failing that from those stored here (tables post_renderings and account_renderings,
migrations 0007 and 0012), or failing that renders the post anew and stores it.
A row's columns are read by position, as PAGE_ROW names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asyncpg import Record

from storage.db import Conn

# A page row's columns, by position: `live` (the session check of a home page, else
# true), then the post, then the original it shares (all NULL unless it is a share),
# each as POST_COLUMNS, then the post's sort key, then the viewer's filter stamp.
POST_COLUMNS = (
    "id",
    "version",  # coalesce(edited_at, created_at), as micros()
    "rev",  # render_rev
    "account_id",
    "account_version",  # the author's updated_at, as micros()
    "posts_count",
    "followers_count",
    "following_count",
    "replies_count",
    "likes_count",
    "shares_count",
    "liked",  # the viewer's state: NULL for nobody
    "shared",
    "bookmarked",
)
POST_AT = 1  # where the post's columns start
ORIGINAL_AT = POST_AT + len(POST_COLUMNS)  # and the original's
FILTERS_STAMP_AT = -1  # the viewer's filter stamp, on every row


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """A version as page rows carry it: exact microseconds since 1970 (an int is much
    cheaper to decode and compare than a datetime, 200 times a page)."""
    return (moment - _EPOCH) // _MICROSECOND


def _micros(moment: str) -> str:
    """The same in SQL (extract gives an exact numeric)."""
    return "(extract(epoch FROM " + moment + ") * 1000000)::int8"


@dataclass(frozen=True)
class Rendering:
    """A rendering to store: the id of the post or account, the source row's version
    (and for a post its render_rev)."""

    id: int
    version: datetime
    body: str
    rev: int = 0


@dataclass(frozen=True)
class PageRows:
    """A page's rows, in page order (none when empty), whether its session is live, and
    the viewer's filter stamp (migration 0035; 0 when they have no filter, None for a
    page read for nobody)."""

    live: bool
    rows: list[Record]
    filters_stamp: int | None = None

    @property
    def ids(self) -> list[int]:
        return [row[POST_AT] for row in self.rows]


def _state(exists: str, viewer: str) -> str:
    return "CASE WHEN " + viewer + "::bigint IS NULL THEN NULL ELSE " + exists + " END"


def _live_columns(post: str, author: str) -> str:
    """Of POST_COLUMNS, what follows the versions: the author's counts, then the post's."""
    return (
        author + ".posts_count, " + author + ".followers_count, " + author + ".following_count, "
        + post + ".replies_count, " + post + ".likes_count, " + post + ".shares_count"
    )  # fmt: skip


def _original(viewer: str) -> str:
    """The original a share shares (`o`, by `oa`) as POST_COLUMNS, all NULL for a post
    that is not a share. The viewer's state of an original is looked up on its own
    (the page's states are gathered for the page's own ids)."""
    liked = (
        "EXISTS (SELECT 1 FROM likes l WHERE l.account_id = " + viewer + " AND l.post_id = o.id)"
    )
    shared = (
        "EXISTS (SELECT 1 FROM posts s WHERE s.account_id = " + viewer + " AND"
        " s.share_of_id = o.id AND s.deleted_at IS NULL)"
    )
    marked = (
        "EXISTS (SELECT 1 FROM bookmarks b WHERE b.account_id = " + viewer + " AND"
        " b.post_id = o.id)"
    )
    return (
        " LEFT JOIN LATERAL (SELECT o.id, "
        + _micros("coalesce(o.edited_at, o.created_at)")
        + ", o.render_rev, o.account_id, "
        + _micros("oa.updated_at")
        + ", "
        + _live_columns("o", "oa")
        + ", "
        + ", ".join(_state(cond, viewer) for cond in (liked, shared, marked))
        + " FROM posts o JOIN accounts oa ON oa.id = o.account_id"
        " WHERE p.share_of_id IS NOT NULL AND o.id = p.share_of_id OFFSET 0)"
        " o(" + ", ".join("o_" + name for name in POST_COLUMNS) + ") ON true"
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


# What a page's source (`page_statement`) selects of each post `p` and its author `pa`.
PAGE_COLUMNS = (
    " p.id, p.account_id, p.share_of_id, p.replies_count, p.likes_count, p.shares_count,"
    " coalesce(p.edited_at, p.created_at) AS version, p.render_rev AS rev, pa.posts_count,"
    " pa.followers_count, pa.following_count, pa.updated_at AS account_version"
)


def page_statement(ctes: str, viewer: str, sort: str, live: str = "true") -> str:
    """One statement that chooses a page and returns its rows (PAGE_ROW): `ctes` ends
    with `page`, the page's posts as PAGE_COLUMNS (already filtered for the viewer, in
    this statement's snapshot, so nothing chosen can have gone since), in the order of
    `sort` (an expression of `p`). Each post and author row is read once, by the
    source. `live`: the first column, a boolean (also when the page is empty: the
    statement always returns a row, whose post columns are NULL for an empty page).
    The last column is the viewer's filter stamp (FILTERS_STAMP_AT)."""
    post_states = ", ".join(
        _state("p.id = ANY(m." + which + ")", viewer) + " AS " + which
        for which in ("liked", "shared", "bookmarked")
    )
    return (
        "WITH "
        + ctes
        + ", ids AS (SELECT coalesce(array_agg(id), '{}') AS ids FROM page),"
        + _states("(SELECT ids FROM ids)::bigint[]", viewer)
        + ", rows AS (SELECT p.id, "
        + _micros("p.version")
        + " AS version, p.rev, p.account_id, "
        + _micros("p.account_version")
        + " AS account_version, "
        + _live_columns("p", "p")
        + ", "
        + post_states
        + ", o.*, "
        + sort
        + " AS sort FROM page p CROSS JOIN m"
        + _original(viewer)
        + ")"
        " SELECT " + live + " AS live, r.*, CASE WHEN " + viewer + "::bigint IS NULL THEN"
        " NULL ELSE coalesce((SELECT stamp FROM filter_stamps"
        "  WHERE account_id = " + viewer + "::bigint), 0) END AS filters_stamp"
        " FROM (SELECT 1) one LEFT JOIN rows r ON true ORDER BY r.sort"
    )


def page_rows(rows: list[Record]) -> PageRows:
    """The rows of a `page_statement`."""
    if not rows:
        return PageRows(False, [])
    live, stamp = bool(rows[0][0]), rows[0][FILTERS_STAMP_AT]
    if rows[0][POST_AT] is None:  # an empty page: one row, of NULLs
        return PageRows(live, [], stamp)
    return PageRows(live, rows, stamp)


# $1: the post ids in page order; $2: the viewer or NULL. Posts deleted since their ids
# were chosen (or sharing a deleted original) drop out.
_PAGE = page_statement(
    "page AS (SELECT u.n," + PAGE_COLUMNS + " FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, n)"
    " JOIN posts p ON p.id = u.id JOIN accounts pa ON pa.id = p.account_id"
    " WHERE p.deleted_at IS NULL AND (p.share_of_id IS NULL OR EXISTS (SELECT 1 FROM posts x"
    "  WHERE x.id = p.share_of_id AND x.deleted_at IS NULL)))",
    "$2",
    "p.n",
)


async def page_of(conn: Conn, *, post_ids: list[int], viewer_id: int | None) -> PageRows:
    """The rows of these posts, in the order of `post_ids`, for the viewer (None: nobody)."""
    return page_rows(await conn.fetch(_PAGE, post_ids, viewer_id))


@dataclass(frozen=True)
class Stored:
    """Stored renderings by id: posts' (version, rev, body), accounts' (version, body),
    versions as micros()."""

    posts: dict[int, tuple[int, int, str]]
    accounts: dict[int, tuple[int, str]]


async def stored(
    conn: Conn, *, post_ids: list[int], account_ids: list[int], format: int, slot: int = 0
) -> Stored:
    """The stored renderings of these posts and accounts made by this serializer, in one
    statement (whatever their version: the caller compares)."""
    rows = await conn.fetch(
        "SELECT true AS post, post_id AS id, " + _micros("version") + " AS version, rev, body"
        " FROM post_renderings WHERE post_id = ANY($1::bigint[]) AND slot = $4 AND format = $3"
        " UNION ALL SELECT false, account_id, " + _micros("version") + ", 0, body"
        " FROM account_renderings"
        " WHERE account_id = ANY($2::bigint[]) AND slot = $4 AND format = $3",
        post_ids,
        account_ids,
        format,
        slot,
    )
    found = Stored({}, {})
    for row in rows:
        if row["post"]:
            found.posts[row["id"]] = (row["version"], row["rev"], row["body"])
        else:
            found.accounts[row["id"]] = (row["version"], row["body"])
    return found


async def store(
    conn: Conn, *, posts: list[Rendering], accounts: list[Rendering], format: int, slot: int = 0
) -> None:
    """Write renderings in one statement, replacing older ones of the same slot (a face:
    migration 0027) whatever their format (a post's with its rev). Rows are written in
    id order, so two requests filling overlapping pages at once never deadlock."""
    posts = sorted({r.id: r for r in posts}.values(), key=lambda r: r.id)
    accounts = sorted({r.id: r for r in accounts}.values(), key=lambda r: r.id)
    await conn.execute(
        "WITH p AS (INSERT INTO post_renderings (post_id, slot, version, rev, format, body)"
        "  SELECT u.id, $9, u.version, u.rev, $7, u.body FROM unnest($1::bigint[],"
        "  $2::timestamptz[], $3::text[], $8::int[]) AS u(id, version, body, rev)"
        "  ON CONFLICT (post_id, slot) DO UPDATE SET version = EXCLUDED.version,"
        "  rev = EXCLUDED.rev, format = EXCLUDED.format, body = EXCLUDED.body RETURNING 1)"
        " INSERT INTO account_renderings (account_id, slot, version, format, body)"
        " SELECT u.id, $9, u.version, $7, u.body"
        " FROM unnest($4::bigint[], $5::timestamptz[], $6::text[]) AS u(id, version, body)"
        " ON CONFLICT (account_id, slot) DO UPDATE SET version = EXCLUDED.version,"
        " format = EXCLUDED.format, body = EXCLUDED.body",
        [r.id for r in posts],
        [r.version for r in posts],
        [r.body for r in posts],
        [r.id for r in accounts],
        [r.version for r in accounts],
        [r.body for r in accounts],
        format,
        [r.rev for r in posts],
        slot,
    )


# ---- dropping renderings (outbox handlers, `stgy reset-cache`)


async def drop_post(conn: Conn, *, post_id: int) -> None:
    """A post edited or deleted: its version changed, so no copy of it is used again."""
    await conn.execute("DELETE FROM post_renderings WHERE post_id = $1", post_id)


async def renew_post(conn: Conn, *, post_id: int) -> None:
    """A post's rendering changed without an edit: a new render_rev makes every copy of
    it stale (the stored one and those in the app processes' memory)."""
    await conn.execute(
        "WITH p AS (UPDATE posts SET render_rev = render_rev + 1 WHERE id = $1)"
        " DELETE FROM post_renderings WHERE post_id = $1",
        post_id,
    )


async def drop_account(conn: Conn, *, account_id: int) -> None:
    """The account's profile, and the posts that mention it (they show its handle):
    those get a new render_rev, as their version does not cover the handle."""
    await conn.execute(
        "WITH a AS (DELETE FROM account_renderings WHERE account_id = $1),"
        " p AS (UPDATE posts SET render_rev = render_rev + 1 WHERE id IN"
        "  (SELECT post_id FROM mentions WHERE account_id = $1))"
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
