"""SQL for the incoming activities beyond posts and follows of local accounts: answers
to our Follows, remote edits, blocks, moves and reports."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn


@dataclass(frozen=True)
class FollowRow:
    follower_id: int
    followee_id: int
    state: str


async def follow_by_ap_id(conn: Conn, *, ap_id: str) -> FollowRow | None:
    row = await conn.fetchrow(
        "SELECT follower_id, followee_id, state FROM follows WHERE ap_id = $1", ap_id
    )
    return FollowRow(*row) if row else None


async def follow_of(conn: Conn, *, follower_id: int, followee_id: int) -> FollowRow | None:
    row = await conn.fetchrow(
        "SELECT follower_id, followee_id, state FROM follows"
        " WHERE follower_id = $1 AND followee_id = $2",
        follower_id,
        followee_id,
    )
    return FollowRow(*row) if row else None


async def is_mentioned(conn: Conn, *, post_id: int, account_id: int) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM mentions WHERE post_id = $1 AND account_id = $2)",
        post_id,
        account_id,
    )
    return found


async def update_remote_post(
    conn: Conn,
    *,
    post_id: int,
    html: str,
    source: str,
    summary: str,
    sensitive: bool,
    language: str | None,
) -> None:
    """A remote edit: the old version goes to the history, the new one takes its place."""
    await conn.execute(
        "INSERT INTO post_edits (post_id, source, html, summary)"
        " SELECT id, source, html, summary FROM posts WHERE id = $1",
        post_id,
    )
    await conn.execute(
        "UPDATE posts SET html = $2, source = $3, summary = $4, sensitive = $5,"
        " language = coalesce($6, language), edited_at = now() WHERE id = $1",
        post_id,
        html,
        source,
        summary,
        sensitive,
        language,
    )


async def like_by_ap_id(conn: Conn, *, account_id: int, ap_id: str) -> int | None:
    """The post an account's like with this Like activity id is on."""
    found: int | None = await conn.fetchval(
        "SELECT post_id FROM likes WHERE account_id = $1 AND ap_id = $2", account_id, ap_id
    )
    return found


async def set_moved(
    conn: Conn, *, account_id: int, moved_to_ap_id: str, moved_to_id: int | None
) -> None:
    await conn.execute(
        "UPDATE accounts SET moved_to_ap_id = $2, moved_to_id = $3, updated_at = now()"
        " WHERE id = $1",
        account_id,
        moved_to_ap_id,
        moved_to_id,
    )


async def insert_report(
    conn: Conn,
    *,
    ap_id: str,
    reporter_id: int,
    target_account_id: int,
    post_ids: list[int],
    comment: str,
) -> int | None:
    """A report for admins; None when this Flag was recorded before."""
    found: int | None = await conn.fetchval(
        "INSERT INTO reports (ap_id, reporter_id, target_account_id, post_ids, comment)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ap_id) DO NOTHING RETURNING id",
        ap_id,
        reporter_id,
        target_account_id,
        post_ids,
        comment,
    )
    return found


async def local_posts_by_ap_ids(conn: Conn, *, ap_ids: list[str]) -> list[tuple[int, int]]:
    """(post id, author id) of the local posts with these ids."""
    rows = await conn.fetch(
        "SELECT id, account_id FROM posts WHERE local AND ap_id = ANY($1::text[])", ap_ids
    )
    return [(row["id"], row["account_id"]) for row in rows]
