"""SQL for the inbox: activities taken in, instance blocks, and posts and shares arriving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn
from storage.outbox import RELAY_CHANNEL


@dataclass(frozen=True)
class InboxActivity:
    id: int
    ap_id: str
    actor_id: str
    type: str
    raw_json: str  # as stored; the domain parses it (with federation.limits' bounds)
    received_at: datetime
    processed_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class PostTarget:
    """A post an incoming activity points at, with what decides whether it may."""

    id: int
    account_id: int
    local: bool
    visibility: str
    allow_likes: bool
    share_of_id: int | None
    deleted: bool
    allow_replies: bool


@dataclass(frozen=True)
class Taken:
    """What taking an activity in did: refused (blocked instance), a duplicate, or stored."""

    blocked: bool
    activity_id: int | None  # None when blocked or seen before
    event_id: int | None


async def take_activity(
    conn: Conn, *, ap_id: str, actor_id: str, type: str, raw_json: str, domains: list[str]
) -> Taken:
    """In one statement (atomic, one round trip): unless one of `domains` is a blocked
    instance, store an activity (its JSON text as received) and its `inbox.received`
    outbox event, left for the relay (enqueued_at NULL) and announced to it with
    NOTIFY on commit (see storage.outbox.RELAY_CHANNEL)."""
    row = await conn.fetchrow(
        "WITH blocked AS (SELECT EXISTS (SELECT 1 FROM instances"
        "  WHERE domain = ANY($5::text[]) AND blocked) AS yes),"
        " stored AS (INSERT INTO inbox_activities (ap_id, actor_id, type, raw)"
        "  SELECT $1, $2, $3, $4::jsonb WHERE NOT (SELECT yes FROM blocked)"
        "  ON CONFLICT (ap_id) DO NOTHING RETURNING id),"
        " event AS (INSERT INTO outbox_events (kind, payload)"
        "  SELECT 'inbox.received', jsonb_build_object('inbox_activity_id', id) FROM stored"
        "  RETURNING (payload ->> 'inbox_activity_id')::bigint AS activity_id, id)"
        " SELECT (SELECT yes FROM blocked), event.activity_id, event.id,"
        " CASE WHEN event.id IS NOT NULL THEN pg_notify('" + RELAY_CHANNEL + "', '') END"
        " FROM (SELECT 1) one LEFT JOIN event ON true",
        ap_id,
        actor_id,
        type,
        raw_json,
        domains,
    )
    assert row is not None  # noqa: S101 - the query always yields one row
    return Taken(bool(row[0]), row[1], row[2])


async def get_activity(conn: Conn, *, activity_id: int) -> InboxActivity | None:
    row = await conn.fetchrow(
        "SELECT id, ap_id, actor_id, type, raw, received_at, processed_at, error"
        " FROM inbox_activities WHERE id = $1",
        activity_id,
    )
    if row is None:
        return None
    return InboxActivity(
        id=row["id"],
        ap_id=row["ap_id"],
        actor_id=row["actor_id"],
        type=row["type"],
        raw_json=row["raw"],
        received_at=row["received_at"],
        processed_at=row["processed_at"],
        error=row["error"],
    )


async def mark_processed(conn: Conn, *, activity_id: int, error: str | None) -> None:
    await conn.execute(
        "UPDATE inbox_activities SET processed_at = now(), error = $2 WHERE id = $1",
        activity_id,
        None if error is None else error[:2000],
    )


async def any_blocked(conn: Conn, *, domains: list[str]) -> bool:
    """Whether any of these domains is a blocked instance."""
    blocked: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM instances WHERE domain = ANY($1::text[]) AND blocked)",
        domains,
    )
    return blocked


async def set_blocked(conn: Conn, *, domain: str, blocked: bool) -> None:
    await conn.execute(
        "INSERT INTO instances (domain, blocked) VALUES (lower($1), $2)"
        " ON CONFLICT (domain) DO UPDATE SET blocked = EXCLUDED.blocked",
        domain,
        blocked,
    )


async def find_post(conn: Conn, *, ap_id: str) -> PostTarget | None:
    row = await conn.fetchrow(
        "SELECT id, account_id, local, visibility, allow_likes, share_of_id,"
        " deleted_at IS NOT NULL, allow_replies FROM posts WHERE ap_id = $1",
        ap_id,
    )
    return PostTarget(*row) if row else None


async def insert_remote_post(
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
    """A post of a remote account; None when a post with this id exists already."""
    post_id: int | None = await conn.fetchval(
        "INSERT INTO posts (account_id, ap_id, url, html, source, summary, sensitive, language,"
        " visibility, in_reply_to_id, in_reply_to_ap_id, local, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, false, coalesce($12, now()))"
        " ON CONFLICT (ap_id) DO NOTHING RETURNING id",
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


async def insert_remote_share(
    conn: Conn, *, account_id: int, share_of_id: int, visibility: str, ap_id: str
) -> int | None:
    """A remote account's share of a post; None when it exists (by id, or a live share)."""
    share_id: int | None = await conn.fetchval(
        "INSERT INTO posts (account_id, ap_id, share_of_id, visibility, local)"
        " SELECT $1, $2, $3, $4, false"
        " WHERE NOT EXISTS (SELECT 1 FROM posts WHERE ap_id = $2)"
        " ON CONFLICT (account_id, share_of_id) WHERE share_of_id IS NOT NULL"
        " AND deleted_at IS NULL DO NOTHING RETURNING id",
        account_id,
        ap_id,
        share_of_id,
        visibility,
    )
    return share_id


async def set_follow_ap_id(conn: Conn, *, follower_id: int, followee_id: int, ap_id: str) -> None:
    """Remember the Follow activity's id (an Accept or an Undo names it)."""
    await conn.execute(
        "UPDATE follows SET ap_id = $3 WHERE follower_id = $1 AND followee_id = $2"
        " AND ap_id IS NULL AND NOT EXISTS (SELECT 1 FROM follows WHERE ap_id = $3)",
        follower_id,
        followee_id,
        ap_id,
    )


async def followee_of_follow(conn: Conn, *, follower_id: int, ap_id: str) -> int | None:
    """The followee of this follower's follow with the given Follow activity id."""
    found: int | None = await conn.fetchval(
        "SELECT followee_id FROM follows WHERE follower_id = $1 AND ap_id = $2",
        follower_id,
        ap_id,
    )
    return found


async def set_like_ap_id(conn: Conn, *, account_id: int, post_id: int, ap_id: str) -> None:
    await conn.execute(
        "UPDATE likes SET ap_id = $3 WHERE account_id = $1 AND post_id = $2"
        " AND ap_id IS NULL AND NOT EXISTS (SELECT 1 FROM likes WHERE ap_id = $3)",
        account_id,
        post_id,
        ap_id,
    )
