"""SQL for list timelines: their stored entries (fan-out, backfill, trim) and their pages,
read as home pages are (the viewer filter is storage/timelines.py's).

A list's entries hold every post of its members with an id above the list's
`entries_floor`; a page below the floor is computed from the members' posts.
"""

from __future__ import annotations

from storage.db import Conn
from storage.read_filters import HIDDEN as _HIDDEN
from storage.read_filters import PAGE_JOINS as _PAGE_JOINS
from storage.read_filters import READ_FILTER as _READ_FILTER
from storage.renderings import PAGE_COLUMNS, PageRows, page_rows, page_statement

# ---- reads ($1 owner, $2 since, $3 until, $4 limit, $5 the list)

# Nothing is chosen unless the owner owns the list (`lv`, no row for someone else's
# list). Replies obey the list's replies_policy: a reply to oneself or to the owner
# always shows; others show when the account replied to is followed by the owner
# (`followed`) or in the list (`list`), never for `none`. A reply whose parent is
# unknown here counts as a reply to someone neither followed nor listed.
_LIST = "lv AS (SELECT replies_policy, entries_floor FROM lists WHERE id = $5 AND owner_id = $1)"
_REPLIES = (
    " AND (p.in_reply_to_id IS NULL AND p.in_reply_to_ap_id IS NULL"
    "  OR r.account_id = p.account_id OR r.account_id = $1"
    "  OR (lv.replies_policy = 'followed' AND EXISTS (SELECT 1 FROM follows rf"
    "   WHERE rf.follower_id = $1 AND rf.followee_id = r.account_id AND rf.state = 'accepted'))"
    "  OR (lv.replies_policy = 'list' AND EXISTS (SELECT 1 FROM list_members rm"
    "   WHERE rm.list_id = $5 AND rm.account_id = r.account_id)))"
)
# A member whose follow is still a request gives nothing; an entry of an account that
# left the list (unfollowed, blocked, removed) stays out.
_MEMBER = (
    " EXISTS (SELECT 1 FROM list_members m JOIN follows f ON f.follower_id = $1"
    "  AND f.followee_id = m.account_id AND f.state = 'accepted'"
    "  WHERE m.list_id = $5 AND m.account_id = {author})"
)
_RANGE = (
    " AND {id} > greatest(coalesce($2::bigint, 0), {floor})"
    " AND {id} < coalesce($3::bigint, 9223372036854775807)"
)

# The stored entries above the floor (the primary key's range, as home's page).
_LIST_PAGE = page_statement(
    _LIST
    + ", "
    + _HIDDEN
    + ", page AS MATERIALIZED (SELECT"
    + PAGE_COLUMNS
    + " FROM list_entries e CROSS JOIN lv JOIN posts p ON p.id = e.post_id"
    + _PAGE_JOINS
    + " LEFT JOIN posts r ON r.id = p.in_reply_to_id WHERE e.list_id = $5"
    + _RANGE.format(id="e.post_id", floor="lv.entries_floor")
    + " AND"
    + _MEMBER.format(author="e.author_id")
    + " AND"
    + _READ_FILTER
    + _REPLIES
    + " ORDER BY e.post_id DESC LIMIT $4)",
    "$1",
    "-p.id",
    "EXISTS (SELECT 1 FROM lv)",
)


async def list_page(
    conn: Conn, *, owner_id: int, list_id: int, since: int | None, until: int | None, limit: int
) -> PageRows | None:
    """The list's stored posts in (since, until) the owner may see, newest first, as the
    rows of a page (storage.renderings.page_statement); None when the owner has no
    such list."""
    page = page_rows(await conn.fetch(_LIST_PAGE, owner_id, since, until, limit, list_id))
    return page if page.live else None


async def entries_floor(conn: Conn, *, list_id: int) -> int:
    floor: int | None = await conn.fetchval(
        "SELECT entries_floor FROM lists WHERE id = $1", list_id
    )
    return floor or 0


# The list's posts in ($2, $3) computed from its members' posts: each member gives at
# most `limit` from its index (posts_account_idx), then the newest `limit` of all win.
_LIST_ON_READ = (
    "WITH "
    + _LIST
    + ", "
    + _HIDDEN
    + " SELECT x.id FROM list_members w CROSS JOIN lv CROSS JOIN LATERAL (SELECT p.id"
    " FROM posts p" + _PAGE_JOINS + " LEFT JOIN posts r ON r.id = p.in_reply_to_id"
    " WHERE p.account_id = w.account_id"
    + _RANGE.format(id="p.id", floor="0")
    + " AND"
    + _READ_FILTER
    + _REPLIES
    + " ORDER BY p.id DESC LIMIT $4) x WHERE w.list_id = $5 AND"
    + _MEMBER.format(author="w.account_id")
    + " ORDER BY x.id DESC LIMIT $4"
)


async def list_ids_on_read(
    conn: Conn, *, owner_id: int, list_id: int, since: int | None, before: int, limit: int
) -> list[int]:
    """The list's posts below `before` (the floor's range), newest first, computed from
    its members' posts (_LIST_ON_READ)."""
    rows = await conn.fetch(_LIST_ON_READ, owner_id, since, before, limit, list_id)
    return [row["id"] for row in rows]


# ---- writes (idempotent: ON CONFLICT DO NOTHING, or deletes)


async def fan_out_to_lists(conn: Conn, *, post_id: int) -> None:
    """Add a new post (not a direct one) to every list that holds its author, in one
    statement (list_members_account_idx)."""
    await conn.execute(
        "INSERT INTO list_entries (list_id, post_id, author_id)"
        " SELECT m.list_id, p.id, p.account_id FROM posts p"
        " JOIN list_members m ON m.account_id = p.account_id"
        " WHERE p.id = $1 AND p.deleted_at IS NULL AND p.visibility <> 'direct'"
        " ON CONFLICT DO NOTHING",
        post_id,
    )


async def backfill_members(conn: Conn, *, list_id: int, account_ids: list[int], keep: int) -> None:
    """Bring the newest `keep` posts of accounts just added to the list (and still in it)
    into its entries (those above its floor). When there may be more, the floor rises to
    just below the oldest one brought, so the entries stay whole above it."""
    await conn.execute(
        "WITH l AS (SELECT entries_floor AS floor FROM lists WHERE id = $1),"
        " picked AS MATERIALIZED (SELECT x.id, x.account_id FROM unnest($2::bigint[]) w(id)"
        "  JOIN list_members m ON m.list_id = $1 AND m.account_id = w.id"
        "  CROSS JOIN LATERAL (SELECT p.id, p.account_id FROM posts p"
        "   WHERE p.account_id = w.id AND p.deleted_at IS NULL AND p.visibility <> 'direct'"
        "   AND p.id > (SELECT floor FROM l) ORDER BY p.id DESC LIMIT $3) x"
        "  ORDER BY x.id DESC LIMIT $3),"
        " written AS (INSERT INTO list_entries (list_id, post_id, author_id)"
        "  SELECT $1, id, account_id FROM picked ON CONFLICT DO NOTHING)"
        " UPDATE lists SET entries_floor = greatest(entries_floor, (SELECT min(id) - 1"
        "  FROM picked)) WHERE id = $1 AND (SELECT count(*) FROM picked) >= $3",
        list_id,
        account_ids,
        keep,
    )


async def remove_members_entries(conn: Conn, *, list_id: int, account_ids: list[int]) -> None:
    await conn.execute(
        "DELETE FROM list_entries WHERE list_id = $1 AND author_id = ANY($2::bigint[])",
        list_id,
        account_ids,
    )


async def trim(conn: Conn, *, after_list: int, lists: int, keep: int) -> tuple[int | None, int]:
    """Keep the newest `keep` entries of the next `lists` lists with ids above
    `after_list`, raising each trimmed list's floor to its cut. Returns the last list
    id of the batch (None when none were left) and the number of entries deleted."""
    row = await conn.fetchrow(
        "WITH batch AS (SELECT id FROM lists WHERE id > $1 ORDER BY id LIMIT $2),"
        " cut AS MATERIALIZED (SELECT b.id AS list_id, x.post_id FROM batch b"
        "  CROSS JOIN LATERAL (SELECT e.post_id FROM list_entries e WHERE e.list_id = b.id"
        "   ORDER BY e.post_id DESC OFFSET $3 LIMIT 1) x),"
        " raised AS (UPDATE lists l SET entries_floor = greatest(l.entries_floor, c.post_id)"
        "  FROM cut c WHERE l.id = c.list_id),"
        " gone AS (DELETE FROM list_entries e USING cut c"
        "  WHERE e.list_id = c.list_id AND e.post_id <= c.post_id RETURNING 1)"
        " SELECT (SELECT max(id) FROM batch) AS last, (SELECT count(*) FROM gone) AS n",
        after_list,
        lists,
        keep,
    )
    assert row is not None  # noqa: S101 - a SELECT without FROM returns one row
    return row["last"], row["n"]


async def bound_above(
    conn: Conn, *, list_id: int, since: int, until: int | None, limit: int
) -> int | None:
    """The `limit`-th stored entry above `since` (below `until`), oldest first: a page
    just above `since` is the newest `limit` up to it (Mastodon's min_id). None when
    there are no entries above it."""
    found: int | None = await conn.fetchval(
        "SELECT max(post_id) FROM (SELECT post_id FROM list_entries WHERE list_id = $1"
        " AND post_id > $2 AND ($3::bigint IS NULL OR post_id < $3)"
        " ORDER BY post_id LIMIT $4) t",
        list_id,
        since,
        until,
        limit,
    )
    return found
