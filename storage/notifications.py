"""SQL for notifications (who gets one for an event, pages, read state) and who gets a post's
live update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.db import Conn
from storage.follows import pending_requests_sql

TYPES = ("follow", "follow_request", "mention", "reply", "like", "share", "moderation_warning")


@dataclass(frozen=True)
class Notification:
    id: int
    account_id: int  # the recipient
    type: str
    from_account_id: int
    post_id: int | None
    created_at: datetime
    read_at: datetime | None
    text: str | None = None  # a moderation warning's words
    group_key: str | None = None  # its group among Mastodon's grouped notifications


@dataclass(frozen=True)
class PostFacts:
    """What a post.created event needs to know to notify: who is replied to, mentioned, shared."""

    id: int
    account_id: int
    share_of_id: int | None
    shared_author_id: int | None
    reply_author_id: int | None
    mentioned_ids: list[int]
    deleted: bool


_COLUMNS = (
    "n.id, n.account_id, n.type, n.from_account_id, n.post_id, n.created_at, n.read_at, n.text,"
    " n.group_key"
)


def _notification(row: asyncpg.Record) -> Notification:
    return Notification(
        id=row["id"],
        account_id=row["account_id"],
        type=row["type"],
        from_account_id=row["from_account_id"],
        post_id=row["post_id"],
        created_at=row["created_at"],
        read_at=row["read_at"],
        text=row.get("text"),
        group_key=row.get("group_key"),
    )


async def insert_warning(conn: Conn, *, account_id: int, text: str) -> Notification:
    """A moderator's warning to a local account, from the account itself (moderators
    are not named to the person)."""
    row = await conn.fetchrow(
        "INSERT INTO notifications (account_id, type, from_account_id, text)"
        " VALUES ($1, 'moderation_warning', $1, $2)"
        " RETURNING id, account_id, type, from_account_id, post_id, created_at, read_at, text,"
        " group_key",
        account_id,
        text,
    )
    assert row is not None  # noqa: S101 - an INSERT ... RETURNING returns its row
    return _notification(row)


async def post_facts(conn: Conn, *, post_id: int) -> PostFacts | None:
    row = await conn.fetchrow(
        "SELECT p.id, p.account_id, p.share_of_id, p.deleted_at IS NOT NULL AS deleted,"
        " (SELECT s.account_id FROM posts s WHERE s.id = p.share_of_id) AS shared_author_id,"
        " (SELECT r.account_id FROM posts r WHERE r.id = p.in_reply_to_id) AS reply_author_id,"
        " ARRAY(SELECT m.account_id FROM mentions m WHERE m.post_id = p.id"
        "  ORDER BY m.account_id) AS mentioned_ids"
        " FROM posts p WHERE p.id = $1",
        post_id,
    )
    if row is None:
        return None
    return PostFacts(
        id=row["id"],
        account_id=row["account_id"],
        share_of_id=row["share_of_id"],
        shared_author_id=row["shared_author_id"],
        reply_author_id=row["reply_author_id"],
        mentioned_ids=list(row["mentioned_ids"]),
        deleted=row["deleted"],
    )


async def insert_notifications(
    conn: Conn,
    *,
    recipients: list[tuple[int, str]],
    from_account_id: int,
    post_id: int | None,
) -> list[Notification]:
    """Notify each (recipient, type) that should hear of it; the ones actually inserted.

    Skipped: remote or inactive recipients, the actor themself, recipients who block
    or mute the actor, a deleted post or one the recipient cannot see, and anything
    already notified (notifications_once_idx), so running an event twice adds nothing.
    """
    if not recipients:
        return []
    rows = await conn.fetch(
        "INSERT INTO notifications (account_id, type, from_account_id, post_id)"
        " SELECT r.account_id, r.type, $3, $4"
        " FROM unnest($1::bigint[], $2::text[]) AS r(account_id, type)"
        " JOIN accounts a ON a.id = r.account_id"
        " WHERE a.domain IS NULL AND a.suspended_at IS NULL AND a.deleted_at IS NULL"
        " AND r.account_id <> $3"
        " AND NOT EXISTS (SELECT 1 FROM blocks b"
        "  WHERE b.account_id = r.account_id AND b.target_id = $3)"
        " AND NOT EXISTS (SELECT 1 FROM mutes m"
        "  WHERE m.account_id = r.account_id AND m.target_id = $3)"
        " AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM posts p WHERE p.id = $4"
        "  AND p.deleted_at IS NULL"
        "  AND stgy_can_see(p.account_id, p.visibility, p.id, r.account_id)))"
        " ON CONFLICT DO NOTHING"
        " RETURNING id, account_id, type, from_account_id, post_id, created_at, read_at,"
        " group_key",
        [account_id for account_id, _ in recipients],
        [kind for _, kind in recipients],
        from_account_id,
        post_id,
    )
    return sorted((_notification(row) for row in rows), key=lambda n: n.id)


async def has_notification(conn: Conn, *, account_id: int, type: str, from_account_id: int) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE account_id = $1 AND type = $2"
        " AND from_account_id = $3)",
        account_id,
        type,
        from_account_id,
    )
    return found


# Notifications the recipient should still see: the actor active and neither blocked
# nor muted by them, the post (when there is one) not deleted.
_SHOWN = (
    " AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.from_account_id"
    "  AND a.suspended_at IS NULL AND a.deleted_at IS NULL)"
    " AND NOT EXISTS (SELECT 1 FROM blocks b"
    "  WHERE b.account_id = n.account_id AND b.target_id = n.from_account_id)"
    " AND NOT EXISTS (SELECT 1 FROM mutes m"
    "  WHERE m.account_id = n.account_id AND m.target_id = n.from_account_id)"
    " AND (n.post_id IS NULL OR EXISTS (SELECT 1 FROM posts p"
    "  WHERE p.id = n.post_id AND p.deleted_at IS NULL))"
)
# For storage/notification_groups.py.
SHOWN = _SHOWN
COLUMNS = _COLUMNS
notification_from = _notification


def _page(order: str) -> str:
    return (
        "SELECT " + _COLUMNS + " FROM notifications n WHERE n.account_id = $1"
        " AND ($2::text[] IS NULL OR n.type = ANY($2::text[]))"
        " AND ($3::text[] IS NULL OR n.type <> ALL($3::text[]))"
        " AND ($4::bigint IS NULL OR n.id > $4)"
        " AND ($5::bigint IS NULL OR n.id < $5)" + _SHOWN + " ORDER BY n.id" + order + " LIMIT $6"
    )


_PAGE = {False: _page(" DESC"), True: _page(" ASC")}


async def page(
    conn: Conn,
    *,
    account_id: int,
    types: list[str] | None,
    exclude_types: list[str] | None,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> list[Notification]:
    """A page of the account's notifications in (since, until) (an index range scan): the
    newest `limit`, newest first, or the oldest `limit` in ascending order."""
    rows = await conn.fetch(_PAGE[ascending], account_id, types, exclude_types, since, until, limit)
    return [_notification(row) for row in rows]


def unread_count_sql(account: str) -> str:
    """A scalar subquery: the unread notifications shown to `account` (an SQL expression)."""
    return (
        "(SELECT count(*) FROM notifications n WHERE n.account_id = " + account + ""
        " AND n.read_at IS NULL" + _SHOWN + ")"
    )


async def unread_count(conn: Conn, *, account_id: int) -> int:
    count: int = await conn.fetchval("SELECT " + unread_count_sql("$1"), account_id)
    return count


async def mark_read_up_to(conn: Conn, *, account_id: int, up_to: int) -> int:
    result = await conn.execute(
        "UPDATE notifications SET read_at = now()"
        " WHERE account_id = $1 AND id <= $2 AND read_at IS NULL",
        account_id,
        up_to,
    )
    return int(result.split()[-1])


async def mark_read(conn: Conn, *, account_id: int, ids: list[int]) -> int:
    result = await conn.execute(
        "UPDATE notifications SET read_at = now()"
        " WHERE account_id = $1 AND id = ANY($2::bigint[]) AND read_at IS NULL",
        account_id,
        ids,
    )
    return int(result.split()[-1])


async def stream_recipients(
    conn: Conn, *, post_id: int, among: list[int], deleted: bool = False
) -> list[int]:
    """Local accounts whose home timeline gets this post, by fan-out's rule: its author,
    the author's accepted followers (a direct post: the accounts it mentions instead),
    none who mute, block or are blocked by the author or the shared post's author;
    only those in `among` (the accounts with a stream open). `deleted`: the post may be
    deleted (whom to tell of its deletion)."""
    rows = await conn.fetch(
        "WITH post AS (SELECT p.id, p.account_id, p.visibility, o.account_id AS original_author"
        "  FROM posts p LEFT JOIN posts o ON o.id = p.share_of_id WHERE p.id = $1 AND ($3"
        "  OR (p.deleted_at IS NULL AND (p.share_of_id IS NULL OR o.deleted_at IS NULL)))),"
        " b AS (SELECT post.account_id AS owner_id FROM post"
        "  UNION SELECT f.follower_id FROM follows f JOIN post ON f.followee_id = post.account_id"
        "   WHERE f.state = 'accepted' AND post.visibility <> 'direct'"
        "   AND f.follower_id = ANY($2::bigint[])"
        "  UNION SELECT m.account_id FROM mentions m JOIN post ON m.post_id = post.id"
        "   WHERE post.visibility = 'direct')"
        " SELECT b.owner_id FROM b CROSS JOIN post JOIN accounts a ON a.id = b.owner_id"
        " WHERE a.domain IS NULL AND a.deleted_at IS NULL AND a.suspended_at IS NULL"
        " AND b.owner_id = ANY($2::bigint[])"
        " AND (b.owner_id = post.account_id OR ("
        "  NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = b.owner_id"
        "   AND mu.target_id IN (post.account_id, post.original_author))"
        "  AND NOT EXISTS (SELECT 1 FROM blocks bk WHERE (bk.account_id = b.owner_id"
        "   AND bk.target_id IN (post.account_id, post.original_author))"
        "   OR (bk.target_id = b.owner_id"
        "   AND bk.account_id IN (post.account_id, post.original_author)))))"
        " ORDER BY b.owner_id",
        post_id,
        among,
        deleted,
    )
    return [row["owner_id"] for row in rows]


@dataclass(frozen=True)
class HeaderCounts:
    """What a member's page header shows: unread notifications, pending follow requests."""

    unread_notifications: int
    follow_requests: int


async def header_counts(conn: Conn, *, account_id: int) -> HeaderCounts:
    """Both counts in one statement (the session's statement has them too)."""
    row = await conn.fetchrow(
        "SELECT " + unread_count_sql("$1") + ", " + pending_requests_sql("$1"), account_id
    )
    assert row is not None  # noqa: S101 - a SELECT of two counts has one row
    return HeaderCounts(row[0], row[1])


async def dismiss(conn: Conn, *, account_id: int, notification_id: int) -> bool:
    """Delete one of the account's notifications; whether there was one."""
    result = await conn.execute(
        "DELETE FROM notifications WHERE account_id = $1 AND id = $2", account_id, notification_id
    )
    return result != "DELETE 0"


async def clear(conn: Conn, *, account_id: int) -> int:
    """Delete all of the account's notifications; how many."""
    result = await conn.execute("DELETE FROM notifications WHERE account_id = $1", account_id)
    return int(result.split()[-1])
