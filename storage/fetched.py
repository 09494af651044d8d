"""SQL for what we fetch from other servers: remote accounts' fetch state, posts fetched
after the fact (backfill, threads), replies waiting for their parent, and thread reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class RemoteState:
    """What decides whether a remote account's documents should be fetched again."""

    account_id: int
    ap_id: str
    domain: str
    outbox_url: str | None
    fetched_at: datetime | None
    outbox_fetched_at: datetime | None
    active: bool


@dataclass(frozen=True)
class ThreadPost:
    """A post as a context fetch sees it: where it is, and what it replies to."""

    id: int
    ap_id: str
    local: bool
    in_reply_to_id: int | None
    in_reply_to_ap_id: str | None


async def remote_state(conn: Conn, *, account_id: int) -> RemoteState | None:
    """The fetch state of a remote account; None for a local or unknown one."""
    row = await conn.fetchrow(
        "SELECT id, ap_id, domain, outbox_url, fetched_at, outbox_fetched_at,"
        " suspended_at IS NULL AND deleted_at IS NULL FROM accounts"
        " WHERE id = $1 AND domain IS NOT NULL",
        account_id,
    )
    return RemoteState(*row) if row else None


async def mark_outbox_fetched(conn: Conn, *, account_id: int) -> None:
    await conn.execute("UPDATE accounts SET outbox_fetched_at = now() WHERE id = $1", account_id)


async def thread_post(conn: Conn, *, post_id: int) -> ThreadPost | None:
    row = await conn.fetchrow(
        "SELECT id, ap_id, local, in_reply_to_id, in_reply_to_ap_id FROM posts WHERE id = $1",
        post_id,
    )
    return ThreadPost(*row) if row else None


async def post_id_by_ap_id(conn: Conn, *, ap_id: str) -> int | None:
    found: int | None = await conn.fetchval("SELECT id FROM posts WHERE ap_id = $1", ap_id)
    return found


async def insert_fetched_post(
    conn: Conn,
    *,
    account_id: int,
    ap_id: str,
    url: str | None,
    html: str,
    source: str,
    summary: str,
    sensitive: bool,
    language: str | None,
    visibility: str,
    in_reply_to_id: int | None,
    in_reply_to_ap_id: str | None,
    created_at: datetime | None,
) -> int | None:
    """A remote post fetched after it was published; None when one with this id exists.

    Its id is made from its publication time (never later than now), so an old post
    fetched today sorts where it belongs on pages and in home timelines, not on top.
    """
    post_id: int | None = await conn.fetchval(
        "INSERT INTO posts (id, account_id, ap_id, url, html, source, summary, sensitive, language,"
        " visibility, in_reply_to_id, in_reply_to_ap_id, local, created_at)"
        " SELECT stgy_id_at(t.at) | nextval('stgy_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10, $11, false, t.at FROM (SELECT least(coalesce($12, now()), now()) AS at) t"
        " ON CONFLICT DO NOTHING RETURNING id",
        account_id,
        ap_id,
        url,
        html,
        source,
        summary,
        sensitive,
        language,
        visibility,
        in_reply_to_id,
        in_reply_to_ap_id,
        created_at,
    )
    return post_id


async def link_waiting_replies(conn: Conn, *, post_id: int, ap_id: str) -> int:
    """Link the stored replies that name this post by its ActivityPub id but were stored
    before it, and count them on it; how many were linked."""
    linked: int = await conn.fetchval(
        "WITH linked AS (UPDATE posts SET in_reply_to_id = $1"
        "  WHERE in_reply_to_ap_id = $2 AND in_reply_to_id IS NULL AND id <> $1 RETURNING id),"
        " counted AS (UPDATE posts SET replies_count = replies_count"
        "  + (SELECT count(*) FROM linked) WHERE id = $1)"
        " SELECT count(*) FROM linked",
        post_id,
        ap_id,
    )
    return linked


async def descendant_ids(
    conn: Conn, *, post_id: int, viewer_id: int | None, depth: int, limit: int
) -> list[int]:
    """The replies below a post, and theirs, that the viewer may see: depth first, each
    level oldest first, at most `depth` levels and `limit` posts. A reply the viewer may
    not see hides the replies under it too."""
    rows = await conn.fetch(
        "WITH RECURSIVE tree AS ("
        " SELECT p.id, ARRAY[p.id] AS path, 1 AS depth FROM posts p"
        "  WHERE p.in_reply_to_id = $1 AND p.deleted_at IS NULL"
        "  AND stgy_can_see(p.account_id, p.visibility, p.id, $2)"
        " UNION ALL SELECT p.id, t.path || p.id, t.depth + 1 FROM tree t"
        "  JOIN posts p ON p.in_reply_to_id = t.id WHERE t.depth < $3 AND p.id <> ALL(t.path)"
        "  AND p.deleted_at IS NULL AND stgy_can_see(p.account_id, p.visibility, p.id, $2))"
        " SELECT id FROM tree ORDER BY path LIMIT $4",
        post_id,
        viewer_id,
        depth,
        limit,
    )
    return [row["id"] for row in rows]
