"""SQL for live streams beyond the home timeline: what a post is for the public and tag
streams, and whether a viewer may see it there (the public timeline's own rule)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn
from storage.public_timelines import PUBLIC_VISIBLE


@dataclass(frozen=True)
class StreamFacts:
    """What the streams need to know of a post, deleted or not."""

    post_id: int
    # On the public timelines: a public original by an account that is not limited.
    public: bool
    direct: bool
    local: bool
    media: bool
    tags: tuple[str, ...]


async def stream_facts(conn: Conn, *, post_id: int) -> StreamFacts | None:
    """The post's facts, also once it is deleted (a deletion is published after the fact)."""
    row = await conn.fetchrow(
        "SELECT p.id, p.visibility = 'public' AND p.share_of_id IS NULL"
        "  AND pa.limited_at IS NULL AND pa.suspended_at IS NULL AND pa.deleted_at IS NULL"
        "  AS public, p.visibility = 'direct' AS direct, p.local,"
        " EXISTS (SELECT 1 FROM media m WHERE m.post_id = p.id) AS media,"
        " ARRAY(SELECT pt.tag FROM post_tags pt WHERE pt.post_id = p.id ORDER BY pt.tag) AS tags"
        " FROM posts p JOIN accounts pa ON pa.id = p.account_id WHERE p.id = $1",
        post_id,
    )
    if row is None:
        return None
    return StreamFacts(
        post_id=row["id"],
        public=row["public"],
        direct=row["direct"],
        local=row["local"],
        media=row["media"],
        tags=tuple(row["tags"]),
    )


async def public_visible(conn: Conn, *, post_id: int, viewer_id: int) -> bool:
    """Whether the post is on the viewer's public timelines: live, public, original, not
    by an account or domain that is limited, blocked either way or muted."""
    found: bool = await conn.fetchval(PUBLIC_VISIBLE, viewer_id, post_id)
    return bool(found)


async def lists_with_entry(conn: Conn, *, post_id: int, among: list[int]) -> list[int]:
    """Which of the lists `among` have the post among their entries (primary key probes)."""
    rows = await conn.fetch(
        "SELECT list_id FROM list_entries WHERE list_id = ANY($2::bigint[]) AND post_id = $1"
        " ORDER BY list_id",
        post_id,
        among,
    )
    return [row["list_id"] for row in rows]


async def lists_of_author(conn: Conn, *, post_id: int, among: list[int]) -> list[int]:
    """Which of the lists `among` hold the post's author."""
    rows = await conn.fetch(
        "SELECT m.list_id FROM posts p JOIN list_members m ON m.account_id = p.account_id"
        " WHERE p.id = $1 AND m.list_id = ANY($2::bigint[]) ORDER BY m.list_id",
        post_id,
        among,
    )
    return [row["list_id"] for row in rows]
