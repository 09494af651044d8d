"""SQL for timelines: home entries (fan-out, backfill, trim, reads) and public/local/tag pages.

Every read returns post ids, newest first, except the home page's, which returns
the rows of its page (storage.renderings.page_statement). Queries use `p` for the
post (or share), `pa` for its author and `o` for the shared original (NULL unless
`p` is a share).
"""

from __future__ import annotations

from storage.db import Conn
from storage.renderings import PAGE_COLUMNS, PageRows, page_rows, page_statement
from storage.sessions import live_session

# What a logged-in viewer ($1) may see of `p`: live posts of active accounts that
# stgy_can_see allows (which also refuses across blocks), the same for a shared
# original, and nothing by an account the viewer muted (a muted author's shares
# and other people's shares of the muted author's posts alike). Fan-out and backfill
# write with this filter.
_VIEWER_FILTER = (
    " p.deleted_at IS NULL AND pa.suspended_at IS NULL AND pa.deleted_at IS NULL"
    " AND stgy_can_see(p.account_id, p.visibility, p.id, $1)"
    " AND (p.share_of_id IS NULL OR (o.deleted_at IS NULL"
    "  AND stgy_can_see(o.account_id, o.visibility, o.id, $1)))"
    " AND ($1::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = $1"
    "  AND (mu.target_id = p.account_id OR mu.target_id = o.account_id)))"
)
_POST_JOINS = " JOIN accounts pa ON pa.id = p.account_id LEFT JOIN posts o ON o.id = p.share_of_id"

# Pages read with the same rule, made cheap per row: the accounts the viewer blocked,
# is blocked by or muted are gathered once per page (`hidden`, joined as `h`), so only
# posts that are not public-ish still need stgy_can_see (followers-only and direct
# ones: follows and mentions). A post of an account in `h` is never shown, and
# stgy_can_see itself is true for anything public, unlisted or local not across a block.
_HIDDEN = (
    "hidden AS (SELECT coalesce(array_agg(x.id), '{}') AS ids FROM ("
    " SELECT target_id FROM blocks WHERE account_id = $1"
    " UNION ALL SELECT account_id FROM blocks WHERE target_id = $1"
    " UNION ALL SELECT target_id FROM mutes WHERE account_id = $1) x(id))"
)
_PAGE_JOINS = _POST_JOINS + " CROSS JOIN hidden h"
_PUBLICISH = " IN ('public', 'unlisted', 'local')"
_READ_FILTER = (
    " p.deleted_at IS NULL AND pa.suspended_at IS NULL AND pa.deleted_at IS NULL"
    " AND p.account_id <> ALL(h.ids) AND (p.visibility" + _PUBLICISH + " OR p.account_id = $1"
    "  OR stgy_can_see(p.account_id, p.visibility, p.id, $1))"
    " AND (p.share_of_id IS NULL OR (o.id IS NOT NULL AND o.deleted_at IS NULL"
    "  AND o.account_id <> ALL(h.ids) AND (o.visibility" + _PUBLICISH + " OR o.account_id = $1"
    "  OR stgy_can_see(o.account_id, o.visibility, o.id, $1))))"
)


# ---- home timeline reads

# $1 owner, $2 since, $3 until, $4 limit, $5 the owner's session: nothing is chosen
# unless the session is live (the request's login check, in the same statement).
_HOME_PAGE = page_statement(
    "live AS (SELECT EXISTS (SELECT 1"
    + live_session("$5", "$1")
    + ") AS yes), "
    + _HIDDEN
    + ", page AS MATERIALIZED (SELECT"
    + PAGE_COLUMNS
    + " FROM timeline_entries t"
    " JOIN posts p ON p.id = t.post_id" + _PAGE_JOINS + " WHERE (SELECT yes FROM live)"
    " AND t.owner_id = $1 AND t.post_id > coalesce($2::bigint, 0)"
    " AND t.post_id < coalesce($3::bigint, 9223372036854775807) AND"
    + _READ_FILTER
    + " ORDER BY t.post_id DESC LIMIT $4)",
    "$1",
    "-p.id",
    "(SELECT yes FROM live)",
)


async def home_page(
    conn: Conn,
    *,
    owner_id: int,
    session_id: int,
    since: int | None,
    until: int | None,
    limit: int,
) -> PageRows | None:
    """Stored home entries in (since, until), newest first, skipping what the owner can't
    see, as the rows of a page (storage.renderings.page_statement). None when the
    owner's session is not live."""
    page = page_rows(await conn.fetch(_HOME_PAGE, owner_id, since, until, limit, session_id))
    return page if page.live else None


async def oldest_entry_id(conn: Conn, *, owner_id: int) -> int | None:
    """The oldest stored home entry: older ones were trimmed (or never written)."""
    oldest: int | None = await conn.fetchval(
        "SELECT post_id FROM timeline_entries WHERE owner_id = $1 ORDER BY post_id LIMIT 1",
        owner_id,
    )
    return oldest


async def home_ids_on_read(
    conn: Conn, *, owner_id: int, since: int | None, before: int | None, limit: int
) -> list[int]:
    """Home posts computed from follows and posts (own posts and followed accounts', shares
    included), for the range past the stored entries. Each followed account gives at most
    `limit` posts from its index (posts_account_idx), then the newest `limit` of all win."""
    rows = await conn.fetch(
        "WITH " + _HIDDEN + " SELECT x.id FROM (SELECT f.followee_id AS author_id FROM follows f"
        "  WHERE f.follower_id = $1 AND f.state = 'accepted' UNION ALL SELECT $1::bigint) w"
        " CROSS JOIN LATERAL (SELECT p.id FROM posts p" + _PAGE_JOINS + " WHERE"
        "  p.account_id = w.author_id AND p.id > coalesce($2::bigint, 0)"
        "  AND p.id < coalesce($3::bigint, 9223372036854775807) AND"
        + _READ_FILTER
        + "  ORDER BY p.id DESC LIMIT $4) x"
        " ORDER BY x.id DESC LIMIT $4",
        owner_id,
        since,
        before,
        limit,
    )
    return [row["id"] for row in rows]


# ---- public, local and tag timelines ($1 is the viewer or NULL)

# Limited accounts' posts are never on these pages (migration 0023).
_PUBLIC_ORIGINAL = (
    " p.visibility = 'public' AND p.share_of_id IS NULL AND pa.limited_at IS NULL AND"
)
# Domains silenced or suspended (migration 0025), gathered once per page (a few rows):
# their accounts' posts stay out of the public and tag timelines, the domains below
# them too. Local accounts (domain NULL) and pages with no such block skip the check.
_LIMITED = (
    ", limited AS (SELECT coalesce(array_agg(domain), '{}') AS domains FROM domain_blocks"
    " WHERE severity IN ('silence', 'suspend'))"
)
_NOT_LIMITED = (
    " AND (pa.domain IS NULL OR cardinality(l.domains) = 0"
    " OR NOT (stgy_domains_of(pa.domain) && l.domains))"
)

# Whether one post ($2) is on the public timelines of viewer $1, by the pages' own rule:
# the live streams ask it of each post they are about to send.
PUBLIC_VISIBLE = (
    "WITH "
    + _HIDDEN
    + _LIMITED
    + " SELECT EXISTS (SELECT 1 FROM posts p"
    + _PAGE_JOINS
    + " CROSS JOIN limited l WHERE p.id = $2 AND"
    + _PUBLIC_ORIGINAL
    + _READ_FILTER
    + _NOT_LIMITED
    + ")"
)


async def public_ids(
    conn: Conn, *, viewer_id: int | None, since: int | None, until: int | None, limit: int
) -> list[int]:
    """Public original posts of every known account, local and remote (posts_public_idx)."""
    rows = await conn.fetch(
        "WITH "
        + _HIDDEN
        + _LIMITED
        + " SELECT p.id FROM posts p"
        + _PAGE_JOINS
        + " CROSS JOIN limited l WHERE"
        + _PUBLIC_ORIGINAL
        + " p.id > coalesce($2::bigint, 0) AND p.id < coalesce($3::bigint, 9223372036854775807)"
        " AND" + _READ_FILTER + _NOT_LIMITED + " ORDER BY p.id DESC LIMIT $4",
        viewer_id,
        since,
        until,
        limit,
    )
    return [row["id"] for row in rows]


async def local_ids(
    conn: Conn, *, viewer_id: int | None, since: int | None, until: int | None, limit: int
) -> list[int]:
    """Public original posts of this instance (posts_local_public_idx)."""
    rows = await conn.fetch(
        "WITH "
        + _HIDDEN
        + " SELECT p.id FROM posts p"
        + _PAGE_JOINS
        + " WHERE p.local AND"
        + _PUBLIC_ORIGINAL
        + " p.id > coalesce($2::bigint, 0) AND p.id < coalesce($3::bigint, 9223372036854775807)"
        " AND" + _READ_FILTER + " ORDER BY p.id DESC LIMIT $4",
        viewer_id,
        since,
        until,
        limit,
    )
    return [row["id"] for row in rows]


async def tag_ids(
    conn: Conn,
    *,
    tag: str,
    viewer_id: int | None,
    since: int | None,
    until: int | None,
    limit: int,
) -> list[int]:
    """Public original posts with a tag (post_tags' primary key orders them)."""
    rows = await conn.fetch(
        "WITH "
        + _HIDDEN
        + _LIMITED
        + " SELECT p.id FROM post_tags pt JOIN posts p ON p.id = pt.post_id"
        + _PAGE_JOINS
        + " CROSS JOIN limited l WHERE pt.tag = $5 AND"
        + _PUBLIC_ORIGINAL
        + " pt.post_id > coalesce($2::bigint, 0)"
        " AND pt.post_id < coalesce($3::bigint, 9223372036854775807) AND"
        + _READ_FILTER
        + _NOT_LIMITED
        + " ORDER BY pt.post_id DESC LIMIT $4",
        viewer_id,
        since,
        until,
        limit,
        tag,
    )
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
        " SELECT $1, p.id, p.account_id FROM posts p" + _POST_JOINS + " WHERE p.account_id = $2"
        " AND EXISTS (SELECT 1 FROM accounts me WHERE me.id = $1 AND me.domain IS NULL)"
        " AND" + _VIEWER_FILTER + " ORDER BY p.id DESC LIMIT $3"
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
