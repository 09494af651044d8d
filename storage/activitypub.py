"""SQL for what ActivityPub serves: local actors, posts as objects, outbox and reply pages,
instance counts for NodeInfo, and the instance's own secrets by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from storage.accounts import ACCOUNT_COLUMNS, ACCOUNT_COLUMNS_PREFIXED, Account, account_from
from storage.db import Conn
from storage.media import POST_MEDIA_JSON, Media, media_list_from_json


@dataclass(frozen=True)
class LocalActor:
    """A local account with the collection URLs and key id it was created with."""

    account: Account
    outbox_url: str
    followers_url: str
    following_url: str
    featured_url: str
    public_key_id: str
    approved: bool  # False while a moderator has not approved the registration


_ACTOR_SELECT = (
    "SELECT " + ACCOUNT_COLUMNS + ", a.outbox_url, a.followers_url, a.following_url,"
    " a.featured_url, a.public_key_id, u.approved"
    " FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.domain IS NULL AND "
)


def _actor(row: asyncpg.Record) -> LocalActor:
    return LocalActor(
        account=account_from(row),
        outbox_url=row["outbox_url"],
        followers_url=row["followers_url"],
        following_url=row["following_url"],
        featured_url=row["featured_url"],
        public_key_id=row["public_key_id"],
        approved=row["approved"],
    )


async def find_local_actor(conn: Conn, *, handle: str) -> LocalActor | None:
    """A local account by its handle or a handle it had before (the current one wins)."""
    row = await conn.fetchrow(
        _ACTOR_SELECT + "(lower(a.handle) = lower($1) OR a.id = (SELECT r.account_id"
        " FROM reserved_handles r WHERE r.handle_lower = lower($1)))"
        " ORDER BY lower(a.handle) = lower($1) DESC LIMIT 1",
        handle,
    )
    return _actor(row) if row else None


@dataclass(frozen=True)
class InstanceCounts:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def instance_counts(conn: Conn) -> InstanceCounts:
    """Approved, live local users; those active (logged in or posted) in 30 and 180 days;
    their posts (not shares). One index probe per user for the last post, one pass over
    the sessions of the last half year."""
    row = await conn.fetchrow(
        "SELECT count(*) AS users,"
        " count(*) FILTER (WHERE l.last_active > now() - interval '30 days') AS active_month,"
        " count(*) FILTER (WHERE l.last_active > now() - interval '180 days') AS active_halfyear,"
        " coalesce(sum(l.posts_count), 0)::bigint AS local_posts"
        " FROM (SELECT a.posts_count, greatest(s.last_login, last.posted) AS last_active"
        "  FROM accounts a JOIN users u ON u.account_id = a.id"
        "  LEFT JOIN (SELECT account_id, max(created_at) AS last_login FROM sessions"
        "   WHERE created_at > now() - interval '180 days' GROUP BY account_id) s"
        "   ON s.account_id = a.id"
        "  LEFT JOIN LATERAL (SELECT to_timestamp((p.id >> 16) / 1000.0) AS posted FROM posts p"
        "   WHERE p.account_id = a.id AND p.deleted_at IS NULL ORDER BY p.id DESC LIMIT 1) last"
        "   ON true"
        "  WHERE a.domain IS NULL AND u.approved AND a.deleted_at IS NULL"
        "  AND a.suspended_at IS NULL) l"
    )
    assert row is not None  # noqa: S101 - an aggregate always returns a row
    return InstanceCounts(
        row["users"], row["active_month"], row["active_halfyear"], row["local_posts"]
    )


@dataclass(frozen=True)
class MentionedActor:
    ap_id: str
    handle: str
    domain: str | None


@dataclass(frozen=True)
class SharedPost:
    """What an Announce needs of the post a share shares."""

    ap_id: str
    author_ap_id: str
    visibility: str
    live: bool  # not deleted, and its author neither deleted nor suspended


@dataclass(frozen=True)
class PostObject:
    """A post with what its ActivityStreams rendering needs."""

    id: int
    account: Account
    author_followers_url: str | None
    ap_id: str
    url: str | None
    source: str
    html: str
    summary: str
    sensitive: bool
    language: str | None
    visibility: str
    allow_likes: bool
    allow_replies: bool
    tags: list[str]
    in_reply_to_ap_id: str | None
    mentions: list[MentionedActor]
    share_of: SharedPost | None
    local: bool
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    media: tuple[Media, ...] = ()  # attachments, in order


_OBJECTS = (
    "SELECT p.id, p.ap_id, p.url, p.source, p.html, p.summary, p.sensitive, p.language,"
    " p.visibility, p.allow_likes, p.allow_replies, p.tags, p.in_reply_to_ap_id,"
    " p.share_of_id, p.local, p.created_at, p.edited_at, p.deleted_at,"
    " (SELECT coalesce(json_agg(json_build_object('ap_id', m.ap_id, 'handle', m.handle,"
    "   'domain', m.domain) ORDER BY m.id), '[]'::json)"
    "   FROM mentions mm JOIN accounts m ON m.id = mm.account_id WHERE mm.post_id = p.id)"
    "   AS mentions_json,"
    " o.ap_id AS shared_ap_id, o.visibility AS shared_visibility, oa.ap_id AS shared_author,"
    " (o.deleted_at IS NULL AND oa.deleted_at IS NULL AND oa.suspended_at IS NULL)"
    "   AS shared_live,"
    " " + POST_MEDIA_JSON + " AS media_json,"
    " a.followers_url AS author_followers_url, " + ACCOUNT_COLUMNS_PREFIXED + " FROM posts p"
    " JOIN accounts a ON a.id = p.account_id"
    " LEFT JOIN posts o ON o.id = p.share_of_id LEFT JOIN accounts oa ON oa.id = o.account_id"
    " WHERE p.id = ANY($1::bigint[])"
)


def _object(row: asyncpg.Record) -> PostObject:
    share_of = None
    if row["share_of_id"] is not None:
        share_of = SharedPost(
            row["shared_ap_id"], row["shared_author"], row["shared_visibility"], row["shared_live"]
        )
    return PostObject(
        id=row["id"],
        account=account_from(row, "a_"),
        author_followers_url=row["author_followers_url"],
        ap_id=row["ap_id"],
        url=row["url"],
        source=row["source"],
        html=row["html"],
        summary=row["summary"],
        sensitive=row["sensitive"],
        language=row["language"],
        visibility=row["visibility"],
        allow_likes=row["allow_likes"],
        allow_replies=row["allow_replies"],
        tags=list(row["tags"]),
        in_reply_to_ap_id=row["in_reply_to_ap_id"],
        mentions=[
            MentionedActor(m["ap_id"], m["handle"], m["domain"])
            for m in orjson.loads(row["mentions_json"])
        ],
        share_of=share_of,
        local=row["local"],
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted_at=row["deleted_at"],
        media=media_list_from_json(row["media_json"]),
    )


async def post_objects(conn: Conn, *, post_ids: list[int]) -> dict[int, PostObject]:
    """Posts (deleted ones included: callers decide) by id, in one query."""
    if not post_ids:
        return {}
    rows = await conn.fetch(_OBJECTS, post_ids)
    return {row["id"]: _object(row) for row in rows}


# An account's live public and unlisted posts, and its shares of live public and
# unlisted posts: what its outbox lists to anyone. $1 is the account.
_OUTBOX = (
    " FROM posts p WHERE p.account_id = $1 AND p.deleted_at IS NULL"
    " AND p.visibility IN ('public', 'unlisted')"
    " AND (p.share_of_id IS NULL OR EXISTS (SELECT 1 FROM posts o"
    "  JOIN accounts oa ON oa.id = o.account_id WHERE o.id = p.share_of_id"
    "  AND o.deleted_at IS NULL AND o.visibility IN ('public', 'unlisted')"
    "  AND oa.deleted_at IS NULL AND oa.suspended_at IS NULL))"
)


async def outbox_count(conn: Conn, *, account_id: int) -> int:
    count: int = await conn.fetchval("SELECT count(*)" + _OUTBOX, account_id)
    return count


async def outbox_ids(
    conn: Conn, *, account_id: int, max_id: int | None, min_id: int | None, limit: int
) -> list[int]:
    """A page of outbox post ids, newest first: below `max_id`, or the oldest above `min_id`."""
    if min_id is not None:
        rows = await conn.fetch(
            "SELECT p.id" + _OUTBOX + " AND p.id > $2 ORDER BY p.id LIMIT $3",
            account_id,
            min_id,
            limit,
        )
        return [row["id"] for row in reversed(rows)]
    rows = await conn.fetch(
        "SELECT p.id" + _OUTBOX + " AND ($2::bigint IS NULL OR p.id < $2)"
        " ORDER BY p.id DESC LIMIT $3",
        account_id,
        max_id,
        limit,
    )
    return [row["id"] for row in rows]


# Live public and unlisted replies of live authors to a post ($1).
_REPLIES = (
    " FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.in_reply_to_id = $1"
    " AND p.deleted_at IS NULL AND p.visibility IN ('public', 'unlisted')"
    " AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
)


async def reply_count(conn: Conn, *, post_id: int) -> int:
    count: int = await conn.fetchval("SELECT count(*)" + _REPLIES, post_id)
    return count


async def reply_page(
    conn: Conn, *, post_id: int, after: int | None, limit: int
) -> list[tuple[int, str]]:
    """(id, ActivityPub id) of replies, oldest first, after the reply id `after`."""
    rows = await conn.fetch(
        "SELECT p.id, p.ap_id" + _REPLIES + " AND ($2::bigint IS NULL OR p.id > $2)"
        " ORDER BY p.id LIMIT $3",
        post_id,
        after,
        limit,
    )
    return [(row["id"], row["ap_id"]) for row in rows]


async def get_instance_secret(conn: Conn, *, name: str) -> str | None:
    """A stored instance secret, or None before it is made (storage.sessions makes them)."""
    value: str | None = await conn.fetchval(
        "SELECT value FROM instance_secrets WHERE name = $1", name
    )
    return value


async def known_domains_count(conn: Conn) -> int:
    """Other servers this one knows of (has exchanged with), blocked ones left out."""
    found: int = await conn.fetchval("SELECT count(*) FROM instances WHERE NOT blocked")
    return found


async def known_domains(conn: Conn) -> list[str]:
    """The domains of the servers counted by known_domains_count, sorted."""
    rows = await conn.fetch("SELECT domain FROM instances WHERE NOT blocked ORDER BY domain")
    return [row["domain"] for row in rows]
