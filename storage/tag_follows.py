"""SQL for followed hashtags: following, the list, and the fan-out of tagged public posts
into the home timelines of the local accounts that follow one of their tags."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn


@dataclass(frozen=True)
class FollowedTag:
    id: int  # the follow's, time-ordered (pages go by it)
    tag: str


async def follow(conn: Conn, *, account_id: int, tag: str) -> None:
    await conn.execute(
        "INSERT INTO followed_tags (account_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        account_id,
        tag,
    )


async def unfollow(conn: Conn, *, account_id: int, tag: str) -> None:
    await conn.execute(
        "DELETE FROM followed_tags WHERE account_id = $1 AND tag = $2", account_id, tag
    )


async def following(conn: Conn, *, account_id: int, tags: list[str]) -> set[str]:
    """Which of `tags` the account follows."""
    rows = await conn.fetch(
        "SELECT tag FROM followed_tags WHERE account_id = $1 AND tag = ANY($2::text[])",
        account_id,
        tags,
    )
    return {row["tag"] for row in rows}


async def page(
    conn: Conn, *, account_id: int, until: int | None, since: int | None, limit: int
) -> list[FollowedTag]:
    """The account's followed tags, latest follow first."""
    rows = await conn.fetch(
        "SELECT id, tag FROM followed_tags WHERE account_id = $1"
        " AND ($2::bigint IS NULL OR id < $2) AND ($3::bigint IS NULL OR id > $3)"
        " ORDER BY id DESC LIMIT $4",
        account_id,
        until,
        since,
        limit,
    )
    return [FollowedTag(row["id"], row["tag"]) for row in rows]


async def fan_out(conn: Conn, *, post_id: int) -> None:
    """A public (or local-only) original post into the home timelines of the local accounts
    that follow one of its tags, less those who muted or blocked its author or are blocked
    by it. Idempotent."""
    await conn.execute(
        "WITH post AS (SELECT p.id, p.account_id FROM posts p WHERE p.id = $1"
        "  AND p.deleted_at IS NULL AND p.share_of_id IS NULL"
        "  AND p.visibility IN ('public', 'local')),"
        " excluded AS (SELECT mu.account_id AS id FROM mutes mu"
        "  WHERE mu.target_id = (SELECT account_id FROM post)"
        "  UNION ALL SELECT bk.account_id FROM blocks bk"
        "  WHERE bk.target_id = (SELECT account_id FROM post)"
        "  UNION ALL SELECT bk.target_id FROM blocks bk"
        "  WHERE bk.account_id = (SELECT account_id FROM post)),"
        " b AS (SELECT DISTINCT ft.account_id AS owner_id FROM post_tags pt"
        "  JOIN followed_tags ft ON ft.tag = pt.tag WHERE pt.post_id = $1)"
        " INSERT INTO timeline_entries (owner_id, post_id, author_id)"
        " SELECT b.owner_id, post.id, post.account_id FROM b CROSS JOIN post"
        " JOIN accounts a ON a.id = b.owner_id"
        " WHERE a.domain IS NULL AND a.deleted_at IS NULL"
        " AND b.owner_id NOT IN (SELECT id FROM excluded)"
        " ON CONFLICT DO NOTHING",
        post_id,
    )


async def remove_post(conn: Conn, *, post_id: int) -> None:
    """A deleted post leaves the home timelines its tags brought it into."""
    await conn.execute(
        "DELETE FROM timeline_entries t USING post_tags pt, followed_tags ft"
        " WHERE pt.post_id = $1 AND ft.tag = pt.tag"
        " AND t.owner_id = ft.account_id AND t.post_id = $1",
        post_id,
    )
