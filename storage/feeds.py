"""SQL for RSS and Atom feeds: which of an account's posts its public feed lists."""

from __future__ import annotations

from storage.db import Conn


async def account_feed_ids(conn: Conn, *, account_id: int, limit: int) -> list[int]:
    """An account's latest public posts, newest first: no shares, no replies to others
    (a reply to its own post, a thread, stays), as Mastodon's account feed has them."""
    rows = await conn.fetch(
        "SELECT p.id FROM posts p WHERE p.account_id = $1 AND p.visibility = 'public'"
        " AND p.share_of_id IS NULL AND p.deleted_at IS NULL"
        " AND (p.in_reply_to_id IS NULL OR EXISTS (SELECT 1 FROM posts r"
        "  WHERE r.id = p.in_reply_to_id AND r.account_id = p.account_id))"
        " ORDER BY p.id DESC LIMIT $2",
        account_id,
        limit,
    )
    return [row["id"] for row in rows]
