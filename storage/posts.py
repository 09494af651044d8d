"""SQL for reading posts: complete views (author, counts, viewer state) in one query, and
the id lists of pages (an account's posts, a thread, bookmarks, likes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from storage.accounts import ACCOUNT_COLUMNS_PREFIXED, Account, account_from
from storage.db import Conn
from storage.media import POST_MEDIA_JSON, Media, media_list_from_json


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
    visible: bool  # stgy_can_see for the viewer the views were loaded for
    media: tuple[Media, ...] = ()  # attachments, in order
    render_rev: int = 0  # counts changes to its rendering that are not edits

    @property
    def shown(self) -> bool:
        """Live and visible to the viewer; a share also needs its original live and visible."""
        if self.deleted_at is not None or not self.visible:
            return False
        if self.share_of_id is None:
            return True
        original = self.share_of
        return original is not None and original.deleted_at is None and original.visible


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
    " p.render_rev,"
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
    " stgy_can_see(p.account_id, p.visibility, p.id, $2) AS viewer_can_see,"
    " " + POST_MEDIA_JSON + " AS media_json,"
    " " + ACCOUNT_COLUMNS_PREFIXED + " FROM wanted p JOIN accounts a ON a.id = p.account_id"
)


def _view(
    row: asyncpg.Record, share_of: PostView | None, authors: dict[int, Account] | None = None
) -> PostView:
    mentions = [
        MentionRef(int(m["id"]), m["handle"], m["domain"], m["url"])
        for m in orjson.loads(row["mentions_json"])
    ]
    return PostView(
        id=row["id"],
        account=_author(row, authors),
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
        visible=row["viewer_can_see"],
        media=media_list_from_json(row["media_json"]),
        render_rev=row["render_rev"],
    )


def _author(row: asyncpg.Record, authors: dict[int, Account] | None) -> Account:
    """The row's author, built once per page: a page often holds several posts of one."""
    if authors is None:
        return account_from(row, "a_")
    found = authors.get(row["a_id"])
    if found is None:
        found = authors[row["a_id"]] = account_from(row, "a_")
    return found


async def load_views(
    conn: Conn, *, post_ids: list[int], viewer_id: int | None
) -> dict[int, PostView]:
    """Views of the given posts (deleted ones included: callers decide), by id, in one query."""
    if not post_ids:
        return {}
    rows = await conn.fetch(_VIEWS, post_ids, viewer_id)
    by_id = {row["id"]: row for row in rows}
    authors: dict[int, Account] = {}
    originals = {row["id"]: _view(row, None, authors) for row in rows if row["share_of_id"] is None}
    views: dict[int, PostView] = {}
    for post_id in post_ids:
        row = by_id.get(post_id)
        if row is None:
            continue
        if row["share_of_id"] is None:
            views[post_id] = originals[post_id]
        else:
            views[post_id] = _view(row, originals.get(row["share_of_id"]), authors)
    return views


@dataclass(frozen=True)
class PostRef:
    """What write paths check before acting on a post: owner, flags, and the viewer's sight."""

    id: int
    account_id: int
    ap_id: str
    visibility: str
    share_of_id: int | None
    in_reply_to_id: int | None
    conversation_id: int | None
    allow_likes: bool
    allow_replies: bool
    deleted: bool
    visible: bool


_REF_COLUMNS = (
    "p.id, p.account_id, p.ap_id, p.visibility, p.share_of_id, p.in_reply_to_id,"
    " p.conversation_id, p.allow_likes, p.allow_replies, p.deleted_at IS NOT NULL AS deleted,"
    " stgy_can_see(p.account_id, p.visibility, p.id, $2) AS visible FROM posts p"
)
# $3: follow a share to the post it shares.
_REF_TARGET = (
    " WHERE p.id = CASE WHEN $3 THEN coalesce("
    "(SELECT s.share_of_id FROM posts s WHERE s.id = $1), $1) ELSE $1 END"
)
_REF = "SELECT " + _REF_COLUMNS + _REF_TARGET
_REF_FOR_UPDATE = _REF + " FOR UPDATE OF p"


async def get_post_ref(
    conn: Conn, *, post_id: int, viewer_id: int | None, original: bool = False, lock: bool = False
) -> PostRef | None:
    """The post (or with `original`, the post a share shares); `lock` takes its row lock."""
    row = await conn.fetchrow(_REF_FOR_UPDATE if lock else _REF, post_id, viewer_id, original)
    return PostRef(*row) if row else None


# A live post the viewer ($2) may see; a share also needs its original live and visible.
SHOWN = (
    " p.deleted_at IS NULL AND stgy_can_see(p.account_id, p.visibility, p.id, $2)"
    " AND (p.share_of_id IS NULL OR EXISTS (SELECT 1 FROM posts o WHERE o.id = p.share_of_id"
    "  AND o.deleted_at IS NULL AND stgy_can_see(o.account_id, o.visibility, o.id, $2)))"
)


async def ancestor_ids(conn: Conn, *, post_id: int, viewer_id: int | None, limit: int) -> list[int]:
    """The chain a post replies to, oldest first, at most `limit` up, visible ones only."""
    rows = await conn.fetch(
        "WITH RECURSIVE chain AS ("
        " SELECT p.id, p.in_reply_to_id, 1 AS depth FROM posts p"
        "  WHERE p.id = (SELECT in_reply_to_id FROM posts WHERE id = $1)"
        " UNION ALL SELECT p.id, p.in_reply_to_id, c.depth + 1 FROM chain c"
        "  JOIN posts p ON p.id = c.in_reply_to_id WHERE c.depth < $3)"
        " SELECT p.id FROM chain c JOIN posts p ON p.id = c.id WHERE"
        + SHOWN
        + " ORDER BY c.depth DESC",
        post_id,
        viewer_id,
        limit,
    )
    return [row["id"] for row in rows]


async def reply_ids(conn: Conn, *, post_id: int, viewer_id: int | None, limit: int) -> list[int]:
    """Direct replies to a post that the viewer may see, oldest first."""
    rows = await conn.fetch(
        "SELECT p.id FROM posts p WHERE p.in_reply_to_id = $1 AND"
        + SHOWN
        + " ORDER BY p.id LIMIT $3",
        post_id,
        viewer_id,
        limit,
    )
    return [row["id"] for row in rows]


@dataclass(frozen=True)
class BookmarkRef:
    id: int  # time-ordered: the page cursor
    post_id: int


def _bookmark_page(order: str) -> str:
    return (
        "SELECT b.id, b.post_id FROM bookmarks b JOIN posts p ON p.id = b.post_id"
        " WHERE b.account_id = $2 AND"
        + SHOWN
        + " AND ($3::bigint IS NULL OR b.id > $3) AND ($4::bigint IS NULL OR b.id < $4)"
        " ORDER BY b.id" + order + " LIMIT $1"
    )


_BOOKMARK_PAGE = {False: _bookmark_page(" DESC"), True: _bookmark_page(" ASC")}


async def bookmark_page(
    conn: Conn,
    *,
    account_id: int,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> list[BookmarkRef]:
    """An account's bookmarks of posts it may still see, by bookmark id in (since, until):
    the newest `limit`, newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_BOOKMARK_PAGE[ascending], limit, account_id, since, until)
    return [BookmarkRef(row["id"], row["post_id"]) for row in rows]


@dataclass(frozen=True)
class PostEdit:
    """A version of a post that an edit replaced, kept as it was shown."""

    id: int  # time-ordered
    source: str
    html: str
    summary: str
    replaced_at: datetime  # when the edit that replaced it was made


async def edit_history(conn: Conn, *, post_id: int, limit: int) -> list[PostEdit]:
    """The versions a post's edits replaced, newest first."""
    rows = await conn.fetch(
        "SELECT id, source, html, summary, created_at FROM post_edits WHERE post_id = $1"
        " ORDER BY id DESC LIMIT $2",
        post_id,
        limit,
    )
    return [PostEdit(*row) for row in rows]


@dataclass(frozen=True)
class Liker:
    account: Account
    liked_at: datetime


async def liker_page(
    conn: Conn,
    *,
    post_id: int,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[Liker]:
    """Active accounts that liked a post, newest like first, before a (time, account) key."""
    rows = await conn.fetch(
        "SELECT l.created_at AS liked_at, " + ACCOUNT_COLUMNS_PREFIXED + " FROM likes l"
        " JOIN accounts a ON a.id = l.account_id"
        " WHERE l.post_id = $1 AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        " AND ($2::timestamptz IS NULL OR (l.created_at, l.account_id) < ($2, $3::bigint))"
        " ORDER BY l.created_at DESC, l.account_id DESC LIMIT $4",
        post_id,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [Liker(account_from(row, "a_"), row["liked_at"]) for row in rows]


async def accounts_by_handles(conn: Conn, *, keys: list[tuple[str, str | None]]) -> list[Account]:
    """Active accounts by (lowercased handle, domain or None for local), e.g. mentions."""
    if not keys:
        return []
    rows = await conn.fetch(
        "SELECT " + ACCOUNT_COLUMNS_PREFIXED + " FROM unnest($1::text[], $2::text[]) AS m(h, d)"
        " JOIN accounts a ON lower(a.handle) = m.h AND coalesce(a.domain, '') = m.d"
        " WHERE a.deleted_at IS NULL AND a.suspended_at IS NULL",
        [handle for handle, _ in keys],
        [domain or "" for _, domain in keys],
    )
    return [account_from(row, "a_") for row in rows]


async def idempotent_post_id(
    conn: Conn, *, account_id: int, key: str, max_age_seconds: float
) -> int | None:
    """The post an account made with an Idempotency-Key, if the key is still fresh."""
    post_id: int | None = await conn.fetchval(
        "SELECT post_id FROM idempotency_keys WHERE account_id = $1 AND key = $2"
        " AND created_at > now() - make_interval(secs => $3)",
        account_id,
        key,
        max_age_seconds,
    )
    return post_id


async def last_post_at(conn: Conn, *, account_id: int) -> datetime | None:
    """When the account last posted (its newest live post's id says when)."""
    found: datetime | None = await conn.fetchval(
        "SELECT created_at FROM posts WHERE account_id = $1 AND deleted_at IS NULL"
        " ORDER BY id DESC LIMIT 1",
        account_id,
    )
    return found


@dataclass(frozen=True)
class Sharer:
    account: Account
    share_id: int  # the share's own post id: the cursor of the next page


async def sharer_page(conn: Conn, *, post_id: int, before: int | None, limit: int) -> list[Sharer]:
    """Active accounts that share a post, newest share first, below a share id."""
    rows = await conn.fetch(
        "SELECT s.id AS share_id, " + ACCOUNT_COLUMNS_PREFIXED + " FROM posts s"
        " JOIN accounts a ON a.id = s.account_id"
        " WHERE s.share_of_id = $1 AND s.deleted_at IS NULL"
        " AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        " AND ($2::bigint IS NULL OR s.id < $2)"
        " ORDER BY s.id DESC LIMIT $3",
        post_id,
        before,
        limit,
    )
    return [Sharer(account_from(row, "a_"), row["share_id"]) for row in rows]


def _liked_posts(order: str) -> str:
    return (
        "SELECT p.id FROM likes l JOIN posts p ON p.id = l.post_id"
        " WHERE l.account_id = $2 AND"
        + SHOWN
        + " AND ($3::bigint IS NULL OR l.post_id > $3) AND ($4::bigint IS NULL OR l.post_id < $4)"
        " ORDER BY l.post_id" + order + " LIMIT $1"
    )


_LIKED_POSTS = {False: _liked_posts(" DESC"), True: _liked_posts(" ASC")}


async def liked_post_ids(
    conn: Conn,
    *,
    account_id: int,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> list[int]:
    """Posts an account liked and may still see, in (since, until): the newest `limit`,
    newest first, or the oldest `limit` in ascending order (the likes' key,
    (account_id, post_id), is the index this pages on)."""
    rows = await conn.fetch(_LIKED_POSTS[ascending], limit, account_id, since, until)
    return [row["id"] for row in rows]


async def own_share_id(conn: Conn, *, account_id: int, share_of_id: int) -> int | None:
    """The account's live share of a post, if any (posts_one_share_idx)."""
    found: int | None = await conn.fetchval(
        "SELECT id FROM posts WHERE account_id = $1 AND share_of_id = $2 AND deleted_at IS NULL",
        account_id,
        share_of_id,
    )
    return found
