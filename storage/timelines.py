"""SQL for home timelines: entries (fan-out, backfill, trim) and their reads.

Reads return post ids (newest first, or oldest first for an ascending page), except
the home page's, which returns the rows of its page (storage.renderings.page_statement).
The public, local and tag reads are in storage.public_timelines. Queries use `p` for the
post (or share), `pa` for its author and `o` for the shared original (NULL unless
`p` is a share).
"""

from __future__ import annotations

from storage import read_filters as rf
from storage.db import Conn
from storage.renderings import PAGE_COLUMNS, PageRows, page_rows, page_statement
from storage.sessions import live_session

# ---- home timeline reads

# The members of the owner's ($1) exclusive lists (migration 0029), whose posts stay out
# of the home timeline (they are still written there, so that leaving the list or the
# list ceasing to be exclusive brings them back): one probe of lists_exclusive_idx that
# finds nothing for an owner with no exclusive list.
_EXCLUSIVE = (
    "exclusive AS (SELECT coalesce(array_agg(m.account_id), '{}') AS ids FROM lists l"
    " JOIN list_members m ON m.list_id = l.id WHERE l.owner_id = $1 AND l.exclusive)"
)
_NOT_EXCLUSIVE = " AND t.author_id <> ALL((SELECT ids FROM exclusive)::bigint[])"


def _home_page(order: str) -> str:
    # $1 owner, $2 since, $3 until, $4 limit, $5 the owner's session: nothing is chosen
    # unless the session is live (the request's login check, in the same statement).
    return page_statement(
        "live AS (SELECT EXISTS (SELECT 1"
        + live_session("$5", "$1")
        + ") AS yes), "
        + rf.HIDDEN
        + ", "
        + _EXCLUSIVE
        + ", page AS MATERIALIZED (SELECT"
        + PAGE_COLUMNS
        + " FROM timeline_entries t"
        " JOIN posts p ON p.id = t.post_id" + rf.PAGE_JOINS + " WHERE (SELECT yes FROM live)"
        " AND t.owner_id = $1 AND t.post_id > coalesce($2::bigint, 0)"
        " AND t.post_id < coalesce($3::bigint, 9223372036854775807)"
        + _NOT_EXCLUSIVE
        + " AND"
        + rf.READ_FILTER
        + " ORDER BY t.post_id"
        + order
        + " LIMIT $4)",
        "$1",
        "-p.id",
        "(SELECT yes FROM live)",
    )


_HOME_PAGE = {order: _home_page(order) for order in rf.ORDERS}


async def home_page(
    conn: Conn,
    *,
    owner_id: int,
    session_id: int,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> PageRows | None:
    """Stored home entries in (since, until) as the rows of a page, newest first
    (storage.renderings.page_statement): the newest `limit` of them, or when `ascending`
    the oldest `limit`. Skips what the owner can't see; None when the owner's session is
    not live."""
    page = page_rows(
        await conn.fetch(_HOME_PAGE[rf.order(ascending)], owner_id, since, until, limit, session_id)
    )
    return page if page.live else None


async def oldest_entry_id(conn: Conn, *, owner_id: int) -> int | None:
    """The oldest stored home entry: older ones were trimmed (or never written)."""
    oldest: int | None = await conn.fetchval(
        "SELECT post_id FROM timeline_entries WHERE owner_id = $1 ORDER BY post_id LIMIT 1",
        owner_id,
    )
    return oldest


def _home_on_read(order: str) -> str:
    return (
        "WITH " + rf.HIDDEN + ", " + _EXCLUSIVE + " SELECT x.id FROM (SELECT f.followee_id AS"
        "  author_id FROM follows f WHERE f.follower_id = $1 AND f.state = 'accepted'"
        "  AND f.followee_id <> ALL((SELECT ids FROM exclusive)::bigint[])"
        "  UNION ALL SELECT $1::bigint) w"
        " CROSS JOIN LATERAL (SELECT p.id FROM posts p" + rf.PAGE_JOINS + " WHERE"
        "  p.account_id = w.author_id AND p.id > coalesce($2::bigint, 0)"
        "  AND p.id < coalesce($3::bigint, 9223372036854775807) AND"
        + rf.READ_FILTER
        + "  ORDER BY p.id"
        + order
        + " LIMIT $4) x"
        " ORDER BY x.id" + order + " LIMIT $4"
    )


_HOME_ON_READ = {order: _home_on_read(order) for order in rf.ORDERS}


async def home_ids_on_read(
    conn: Conn,
    *,
    owner_id: int,
    since: int | None,
    before: int | None,
    limit: int,
    ascending: bool = False,
) -> list[int]:
    """Home posts computed from follows and posts (own posts and followed accounts', shares
    included, members of exclusive lists left out), for the range past the stored entries.
    Each followed account gives at most `limit` posts from its index (posts_account_idx),
    then the newest `limit` of all win (the oldest, in ascending order, when `ascending`)."""
    rows = await conn.fetch(_HOME_ON_READ[rf.order(ascending)], owner_id, since, before, limit)
    return [row["id"] for row in rows]


# ---- writes by the fan-out jobs (all idempotent: ON CONFLICT DO NOTHING, or deletes)

# The post being fanned out, if still live and not direct, with a share's original author.
_FAN_OUT_POST = (
    "post AS (SELECT p.id, p.account_id, o.account_id AS original_author FROM posts p"
    " LEFT JOIN posts o ON o.id = p.share_of_id WHERE p.id = $1 AND p.deleted_at IS NULL"
    " AND p.visibility <> 'direct' AND (p.share_of_id IS NULL OR o.deleted_at IS NULL))"
)
# The accounts that muted, blocked or are blocked by the post's author or the shared
# original's author, gathered once per statement (a few rows, by index) rather than
# probed for every owner; owners (`b.owner_id`) among them are skipped (a hashed NOT IN).
_EXCLUDED_OWNERS = (
    "authors AS (SELECT account_id AS id FROM post UNION SELECT original_author FROM post"
    "  WHERE original_author IS NOT NULL),"
    " excluded AS (SELECT mu.account_id AS id FROM mutes mu WHERE mu.target_id IN"
    "  (SELECT id FROM authors) UNION ALL SELECT bk.account_id FROM blocks bk"
    "  WHERE bk.target_id IN (SELECT id FROM authors) UNION ALL SELECT bk.target_id"
    "  FROM blocks bk WHERE bk.account_id IN (SELECT id FROM authors))"
)
_OWNER_NOT_MUTED_OR_BLOCKED = " AND b.owner_id NOT IN (SELECT id FROM excluded)"


async def fan_out_to_followers(conn: Conn, *, post_id: int, after: int, batch: int) -> int | None:
    """Add a post to the home timelines of the next `batch` local accepted followers of its
    author with ids above `after`, in one statement. Returns the last follower id of the
    batch, or None when there were none left."""
    last: int | None = await conn.fetchval(
        "WITH " + _FAN_OUT_POST + ", " + _EXCLUDED_OWNERS + ","
        " b AS (SELECT f.follower_id AS owner_id FROM follows f"
        "  WHERE f.followee_id = (SELECT account_id FROM post) AND f.state = 'accepted'"
        "  AND f.follower_id > $2 ORDER BY f.follower_id LIMIT $3),"
        " written AS (INSERT INTO timeline_entries (owner_id, post_id, author_id)"
        "  SELECT b.owner_id, post.id, post.account_id FROM b CROSS JOIN post"
        "  JOIN accounts a ON a.id = b.owner_id"
        "  WHERE a.domain IS NULL AND a.deleted_at IS NULL"
        + _OWNER_NOT_MUTED_OR_BLOCKED
        + "  ON CONFLICT DO NOTHING)"
        " SELECT max(owner_id) FROM b",
        post_id,
        after,
        batch,
    )
    return last


async def fan_out_to_mentioned(conn: Conn, *, post_id: int) -> None:
    """Add a direct post to the home timelines of the local accounts it mentions."""
    await conn.execute(
        "WITH post AS (SELECT p.id, p.account_id, NULL::bigint AS original_author FROM posts p"
        "  WHERE p.id = $1 AND p.deleted_at IS NULL AND p.visibility = 'direct'), "
        + _EXCLUDED_OWNERS
        + " INSERT INTO timeline_entries (owner_id, post_id, author_id)"
        " SELECT b.owner_id, post.id, post.account_id FROM post"
        " JOIN (SELECT m.account_id AS owner_id FROM mentions m WHERE m.post_id = $1) b"
        "  ON b.owner_id <> post.account_id JOIN accounts a ON a.id = b.owner_id"
        " WHERE a.domain IS NULL AND a.deleted_at IS NULL"
        + _OWNER_NOT_MUTED_OR_BLOCKED
        + " ON CONFLICT DO NOTHING",
        post_id,
    )


async def remove_post(conn: Conn, *, post_id: int) -> None:
    """Remove a post and the shares of it from every home timeline they can be in: the
    author's and sharers' own, their followers', and the mentioned accounts'. Deletes by
    primary key (owner, post), so no index on post_id alone is needed."""
    await conn.execute(
        "WITH gone AS (SELECT id, account_id FROM posts WHERE id = $1"
        "  UNION ALL SELECT id, account_id FROM posts WHERE share_of_id = $1),"
        " owners AS (SELECT g.id AS post_id, g.account_id AS owner_id FROM gone g"
        "  UNION SELECT g.id, f.follower_id FROM gone g"
        "   JOIN follows f ON f.followee_id = g.account_id AND f.state = 'accepted'"
        "  UNION SELECT g.id, m.account_id FROM gone g JOIN mentions m ON m.post_id = g.id)"
        " DELETE FROM timeline_entries t USING owners w"
        " WHERE t.owner_id = w.owner_id AND t.post_id = w.post_id",
        post_id,
    )


async def backfill(conn: Conn, *, follower_id: int, followee_id: int, limit: int) -> None:
    """Add the followee's newest `limit` posts (and shares) the follower may see to the
    follower's home timeline, when the follower is local."""
    await conn.execute(
        "INSERT INTO timeline_entries (owner_id, post_id, author_id)"
        " SELECT $1, p.id, p.account_id FROM posts p" + rf.POST_JOINS + " WHERE p.account_id = $2"
        " AND EXISTS (SELECT 1 FROM accounts me WHERE me.id = $1 AND me.domain IS NULL)"
        " AND" + rf.VIEWER_FILTER + " ORDER BY p.id DESC LIMIT $3"
        " ON CONFLICT DO NOTHING",
        follower_id,
        followee_id,
        limit,
    )


async def remove_author(conn: Conn, *, owner_id: int, author_id: int) -> None:
    """Remove an author's posts and shares from a home timeline, unless the owner follows
    the author again by now (a later follow's backfill stays)."""
    await conn.execute(
        "DELETE FROM timeline_entries WHERE owner_id = $1 AND author_id = $2"
        " AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1"
        "  AND f.followee_id = $2 AND f.state = 'accepted')",
        owner_id,
        author_id,
    )


async def trim(conn: Conn, *, after_owner: int, owners: int, keep: int) -> tuple[int | None, int]:
    """Keep the newest `keep` entries of the next `owners` local accounts with ids above
    `after_owner`. Returns the last account id of the batch (None when none were left)
    and the number of entries deleted."""
    row = await conn.fetchrow(
        "WITH owners AS (SELECT account_id FROM users WHERE account_id > $1"
        "  ORDER BY account_id LIMIT $2),"
        " cut AS (SELECT w.account_id AS owner_id, x.post_id FROM owners w"
        "  CROSS JOIN LATERAL (SELECT t.post_id FROM timeline_entries t"
        "   WHERE t.owner_id = w.account_id ORDER BY t.post_id DESC OFFSET $3 LIMIT 1) x),"
        " gone AS (DELETE FROM timeline_entries t USING cut c"
        "  WHERE t.owner_id = c.owner_id AND t.post_id <= c.post_id RETURNING 1)"
        " SELECT (SELECT max(account_id) FROM owners) AS last, (SELECT count(*) FROM gone) AS n",
        after_owner,
        owners,
        keep,
    )
    assert row is not None  # noqa: S101 - a SELECT without FROM returns one row
    return row["last"], row["n"]


async def entry_ids(conn: Conn, *, owner_id: int) -> list[int]:
    """Every stored entry of a home timeline, newest first (for checks and tools)."""
    rows = await conn.fetch(
        "SELECT post_id FROM timeline_entries WHERE owner_id = $1 ORDER BY post_id DESC",
        owner_id,
    )
    return [row["post_id"] for row in rows]
