"""SQL for posts: reading them as complete views (author, counts, viewer state) in one query."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.accounts import ACCOUNT_COLUMNS_PREFIXED, Account, account_from
from storage.db import Conn


@dataclass(frozen=True)
class MentionRef:
    id: int
    handle: str
    domain: str | None
    url: str | None


@dataclass(frozen=True)
class PostView:
    """A post as people see it: the post, its author, counts, and the viewer's own state."""

    id: int
    account: Account
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
    mentions: list[MentionRef]
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    share_of_id: int | None
    share_of: PostView | None
    replies_count: int
    likes_count: int
    shares_count: int
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    liked: bool | None
    shared: bool | None
    bookmarked: bool | None


# One statement for a page: the posts asked for plus the posts they share, each
# with its author, mentions and the viewer's like/share/bookmark state. $2 is the
# viewer's account id or NULL (then the three states are NULL).
_VIEWS = (
    "WITH base AS (SELECT * FROM posts WHERE id = ANY($1::bigint[])),"
    " wanted AS (SELECT * FROM base UNION ALL SELECT p.* FROM posts p"
    "  WHERE p.id IN (SELECT share_of_id FROM base WHERE share_of_id IS NOT NULL)"
    "  AND p.id <> ALL($1::bigint[]))"
    " SELECT p.id, p.ap_id, p.url, p.source, p.html, p.summary, p.sensitive, p.language,"
    " p.visibility, p.allow_likes, p.allow_replies, p.tags, p.in_reply_to_id, p.share_of_id,"
    " p.replies_count, p.likes_count, p.shares_count, p.created_at, p.edited_at, p.deleted_at,"
    " (SELECT r.account_id FROM posts r WHERE r.id = p.in_reply_to_id) AS in_reply_to_account_id,"
    " (SELECT coalesce(json_agg(json_build_object('id', m.id, 'handle', m.handle,"
    "   'domain', m.domain, 'url', m.url) ORDER BY m.id), '[]'::json)"
    "   FROM mentions mm JOIN accounts m ON m.id = mm.account_id WHERE mm.post_id = p.id)"
    "   AS mentions_json,"
    " CASE WHEN $2::bigint IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM likes l"
    "   WHERE l.post_id = p.id AND l.account_id = $2) END AS viewer_liked,"
    " CASE WHEN $2::bigint IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM posts s"
    "   WHERE s.share_of_id = p.id AND s.account_id = $2 AND s.deleted_at IS NULL)"
    "   END AS viewer_shared,"
    " CASE WHEN $2::bigint IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM bookmarks b"
    "   WHERE b.post_id = p.id AND b.account_id = $2) END AS viewer_bookmarked,"
    " " + ACCOUNT_COLUMNS_PREFIXED + " FROM wanted p JOIN accounts a ON a.id = p.account_id"
)


def _view(row: asyncpg.Record, share_of: PostView | None) -> PostView:
    mentions = [
        MentionRef(int(m["id"]), m["handle"], m["domain"], m["url"])
        for m in json.loads(row["mentions_json"])
    ]
    return PostView(
        id=row["id"],
        account=account_from(row, "a_"),
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
        mentions=mentions,
        in_reply_to_id=row["in_reply_to_id"],
        in_reply_to_account_id=row["in_reply_to_account_id"],
        share_of_id=row["share_of_id"],
        share_of=share_of,
        replies_count=row["replies_count"],
        likes_count=row["likes_count"],
        shares_count=row["shares_count"],
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted_at=row["deleted_at"],
        liked=row["viewer_liked"],
        shared=row["viewer_shared"],
        bookmarked=row["viewer_bookmarked"],
    )


async def load_views(
    conn: Conn, *, post_ids: list[int], viewer_id: int | None
) -> dict[int, PostView]:
    """Views of the given posts (deleted ones included: callers decide), by id, in one query."""
    if not post_ids:
        return {}
    rows = await conn.fetch(_VIEWS, post_ids, viewer_id)
    by_id = {row["id"]: row for row in rows}
    originals = {row["id"]: _view(row, None) for row in rows if row["share_of_id"] is None}
    views: dict[int, PostView] = {}
    for post_id in post_ids:
        row = by_id.get(post_id)
        if row is None:
            continue
        if row["share_of_id"] is None:
            views[post_id] = originals[post_id]
        else:
            views[post_id] = _view(row, originals.get(row["share_of_id"]))
    return views
