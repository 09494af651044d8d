"""SQL for an account's posts page: its posts and shares a viewer may see, with
Mastodon's account statuses filters, newest first or (min_id) oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn
from storage.posts import SHOWN


def _account_posts(order: str) -> str:
    # $6 exclude_replies (a reply to the author's own post stays: a thread, as Mastodon
    # keeps it), $7 exclude_reblogs, $8 only_media (an attachment at position 0, which
    # every post with attachments has), $9 a tag or NULL. All filters of the
    # posts_account_idx scan.
    return (
        "SELECT p.id FROM posts p WHERE p.account_id = $1 AND"
        + SHOWN
        + " AND ($3::bigint IS NULL OR p.id > $3) AND ($4::bigint IS NULL OR p.id < $4)"
        " AND (NOT $6::boolean OR (p.in_reply_to_id IS NULL AND p.in_reply_to_ap_id IS NULL)"
        "  OR (SELECT r.account_id FROM posts r WHERE r.id = p.in_reply_to_id) = p.account_id)"
        " AND (NOT $7::boolean OR p.share_of_id IS NULL)"
        # Scalar subqueries, probed per post: under an OR the planner may make an EXISTS
        # a hashed subplan reading every attachment (or every post with the tag).
        " AND (NOT $8::boolean OR (SELECT true FROM media m WHERE m.post_id = p.id"
        "  AND m.position = 0 LIMIT 1))"
        " AND ($9::text IS NULL OR (SELECT true FROM post_tags t WHERE t.tag = $9"
        "  AND t.post_id = p.id LIMIT 1))"
        " ORDER BY p.id" + order + " LIMIT $5"
    )


_ACCOUNT_POSTS = {False: _account_posts(" DESC"), True: _account_posts(" ASC")}


@dataclass(frozen=True)
class AccountPostFilter:
    """Which of an account's posts a page shows (Mastodon's account statuses filters)."""

    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    tagged: str | None = None  # a tag's stored form


async def account_post_ids(
    conn: Conn,
    *,
    account_id: int,
    viewer_id: int | None,
    since: int | None,
    until: int | None,
    limit: int,
    shown: AccountPostFilter = AccountPostFilter(),
    ascending: bool = False,
) -> list[int]:
    """Ids of an account's posts and shares the viewer may see that `shown` lets through:
    the newest `limit` in (since, until), newest first, or the oldest `limit` in
    ascending order when `ascending`."""
    rows = await conn.fetch(
        _ACCOUNT_POSTS[ascending],
        account_id,
        viewer_id,
        since,
        until,
        limit,
        shown.exclude_replies,
        shown.exclude_reblogs,
        shown.only_media,
        shown.tagged,
    )
    return [row["id"] for row in rows]
