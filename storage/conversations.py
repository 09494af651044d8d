"""SQL for conversations: each local participant's threads of direct posts, and unread."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn


@dataclass(frozen=True)
class Conversation:
    id: int
    account_id: int
    last_post_id: int
    unread: bool


# The local participants of a direct post: its author and the accounts it mentions,
# less those who block or mute the author (as for the home timeline) or are blocked by it.
_PARTICIPANTS = (
    "WITH post AS (SELECT p.id, p.account_id, coalesce(p.conversation_id, p.id) AS root_id"
    "  FROM posts p WHERE p.id = $1 AND p.deleted_at IS NULL AND p.visibility = 'direct'),"
    " who AS (SELECT account_id FROM post UNION SELECT m.account_id FROM mentions m"
    "  WHERE m.post_id = $1),"
    " local AS (SELECT w.account_id FROM who w JOIN accounts a ON a.id = w.account_id"
    "  WHERE a.domain IS NULL AND a.deleted_at IS NULL"
    "  AND (w.account_id = (SELECT account_id FROM post) OR NOT EXISTS ("
    "   SELECT 1 FROM mutes mu WHERE mu.account_id = w.account_id"
    "    AND mu.target_id = (SELECT account_id FROM post)"
    "   UNION ALL SELECT 1 FROM blocks bk WHERE (bk.account_id = w.account_id"
    "    AND bk.target_id = (SELECT account_id FROM post)) OR (bk.target_id = w.account_id"
    "    AND bk.account_id = (SELECT account_id FROM post)))))"
)


async def record_post(conn: Conn, *, post_id: int) -> list[Conversation]:
    """A new direct post becomes the last post of its thread's conversation for each local
    participant: unread for all but its author. Returns the rows written (none for a
    post that is not direct). Running it twice writes the same rows."""
    rows = await conn.fetch(
        _PARTICIPANTS + " INSERT INTO conversations (account_id, root_id, last_post_id, unread)"
        " SELECT l.account_id, post.root_id, post.id, l.account_id <> post.account_id"
        " FROM local l, post"
        " ON CONFLICT (account_id, root_id) DO UPDATE SET"
        "  last_post_id = greatest(conversations.last_post_id, EXCLUDED.last_post_id),"
        "  unread = CASE WHEN EXCLUDED.last_post_id > conversations.last_post_id"
        "   THEN EXCLUDED.unread ELSE conversations.unread END"
        " RETURNING id, account_id, last_post_id, unread",
        post_id,
    )
    return [Conversation(*row) for row in rows]


async def forget_post(conn: Conn, *, post_id: int) -> None:
    """A deleted post stops being the last post of its conversations: each points at the
    newest direct post left in the thread that its person is part of, or goes."""
    await conn.execute(
        "WITH hit AS (SELECT c.id, c.account_id, c.root_id FROM conversations c"
        "  WHERE c.last_post_id = $1),"
        " latest AS (SELECT h.id, (SELECT p.id FROM posts p"
        "   WHERE coalesce(p.conversation_id, p.id) = h.root_id AND p.visibility = 'direct'"
        "   AND p.deleted_at IS NULL AND (p.account_id = h.account_id OR EXISTS ("
        "    SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.account_id = h.account_id))"
        "   ORDER BY p.id DESC LIMIT 1) AS post_id FROM hit h),"
        " gone AS (DELETE FROM conversations c USING latest l"
        "  WHERE c.id = l.id AND l.post_id IS NULL)"
        " UPDATE conversations c SET last_post_id = l.post_id FROM latest l"
        " WHERE c.id = l.id AND l.post_id IS NOT NULL",
        post_id,
    )


async def page(
    conn: Conn,
    *,
    account_id: int,
    until: int | None,
    since: int | None,
    just_above: int | None,
    limit: int,
) -> list[Conversation]:
    """A person's conversations by their last post, newest first: below `until` and above
    `since`, or with `just_above` the `limit` ones just above it (still newest first)."""
    if just_above is not None:
        rows = await conn.fetch(
            "SELECT id, account_id, last_post_id, unread FROM conversations"
            " WHERE account_id = $1 AND last_post_id > $2"
            " AND ($3::bigint IS NULL OR last_post_id < $3)"
            " ORDER BY last_post_id LIMIT $4",
            account_id,
            just_above,
            until,
            limit,
        )
        return [Conversation(*row) for row in reversed(rows)]
    rows = await conn.fetch(
        "SELECT id, account_id, last_post_id, unread FROM conversations"
        " WHERE account_id = $1 AND ($2::bigint IS NULL OR last_post_id < $2)"
        " AND ($3::bigint IS NULL OR last_post_id > $3)"
        " ORDER BY last_post_id DESC LIMIT $4",
        account_id,
        until,
        since,
        limit,
    )
    return [Conversation(*row) for row in rows]


async def mark_read(conn: Conn, *, account_id: int, conversation_id: int) -> Conversation | None:
    row = await conn.fetchrow(
        "UPDATE conversations SET unread = false WHERE id = $1 AND account_id = $2"
        " RETURNING id, account_id, last_post_id, unread",
        conversation_id,
        account_id,
    )
    return Conversation(*row) if row is not None else None


async def remove(conn: Conn, *, account_id: int, conversation_id: int) -> bool:
    done = await conn.execute(
        "DELETE FROM conversations WHERE id = $1 AND account_id = $2",
        conversation_id,
        account_id,
    )
    return str(done) == "DELETE 1"


async def participants(conn: Conn, *, post_ids: list[int]) -> dict[int, list[int]]:
    """The accounts in each direct post: its author and those it mentions, by post id."""
    rows = await conn.fetch(
        "SELECT p.id, array(SELECT p.account_id UNION SELECT m.account_id FROM mentions m"
        "  WHERE m.post_id = p.id) AS who FROM posts p WHERE p.id = ANY($1::bigint[])",
        post_ids,
    )
    return {row["id"]: sorted(row["who"]) for row in rows}
