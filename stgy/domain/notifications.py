"""Notifications: made by outbox handlers from events, listed and marked read by their owner."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain import streaming
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import notifications as notifications_sql
from storage import posts as posts_sql
from storage.accounts import Account
from storage.db import Conn
from storage.notifications import TYPES, Notification
from storage.outbox import OutboxEvent
from storage.posts import PostView

DEFAULT_PAGE = 40
MAX_PAGE = 100
MAX_IDS = 100


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    account: Account
    post: PostView | None


def parse_types(value: str | None, field: str) -> list[str] | None:
    """A comma-separated list of notification types; None when not given."""
    if value is None or not value.strip():
        return None
    types = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise Invalid(field, f"unknown type {unknown[0]!r}; one of {', '.join(TYPES)}")
    return types


async def _views(
    conn: Conn, viewer_id: int, notifications: list[Notification]
) -> list[NotificationView]:
    """Actors and posts of the notifications with two queries, however many there are."""
    accounts = await accounts_sql.get_accounts(
        conn, account_ids=sorted({n.from_account_id for n in notifications})
    )
    posts = await posts_sql.load_views(
        conn,
        post_ids=sorted({n.post_id for n in notifications if n.post_id is not None}),
        viewer_id=viewer_id,
    )
    views = []
    for n in notifications:
        account = accounts.get(n.from_account_id)
        post = posts.get(n.post_id) if n.post_id is not None else None
        if account is None or (n.post_id is not None and (post is None or post.deleted_at)):
            continue  # gone since: nothing to show
        views.append(NotificationView(n, account, post))
    return views


async def list_notifications(
    services: Services,
    viewer_id: int,
    *,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int = DEFAULT_PAGE,
    ascending: bool = False,
) -> list[NotificationView]:
    """Notifications in (since, until), newest first: the newest `limit`, or when
    `ascending` the `limit` just above `since`."""
    async with services.pool.acquire() as conn:
        rows = await notifications_sql.page(
            conn,
            account_id=viewer_id,
            types=types,
            exclude_types=exclude_types,
            since=since,
            until=until,
            limit=max(1, min(limit, MAX_PAGE)),
            ascending=ascending,
        )
        if ascending:
            rows.reverse()
        return await _views(conn, viewer_id, rows) if rows else []


async def view_of(
    services: Services, viewer_id: int, notification: Notification
) -> NotificationView | None:
    """The view of one notification (sent on a stream); None when it is not for this viewer."""
    if notification.account_id != viewer_id:
        return None
    async with services.pool.acquire() as conn:
        views = await _views(conn, viewer_id, [notification])
    return views[0] if views else None


async def unread_count(services: Services, viewer_id: int) -> int:
    async with services.pool.acquire() as conn:
        return await notifications_sql.unread_count(conn, account_id=viewer_id)


async def header_counts(services: Services, viewer_id: int) -> notifications_sql.HeaderCounts:
    """Unread notifications and pending follow requests, for a page's header."""
    async with services.pool.acquire() as conn:
        return await notifications_sql.header_counts(conn, account_id=viewer_id)


async def mark_read(
    services: Services, viewer_id: int, *, up_to: int | None, ids: list[int] | None
) -> int:
    """Mark the viewer's notifications read, up to an id or by ids; how many changed."""
    if (up_to is None) == (ids is None):
        raise Invalid("up_to", "give either up_to (an id) or ids (a list of ids)")
    async with services.pool.acquire() as conn:
        if up_to is not None:
            return await notifications_sql.mark_read_up_to(conn, account_id=viewer_id, up_to=up_to)
        assert ids is not None  # noqa: S101 - checked above
        if len(ids) > MAX_IDS:
            raise Invalid("ids", f"at most {MAX_IDS} ids")
        return await notifications_sql.mark_read(conn, account_id=viewer_id, ids=ids)


async def _notify(
    conn: Conn,
    services: Services,
    recipients: list[tuple[int, str]],
    *,
    actor_id: int,
    post_id: int | None,
) -> list[Notification]:
    made = await notifications_sql.insert_notifications(
        conn, recipients=recipients, from_account_id=actor_id, post_id=post_id
    )
    # Only what this run inserted is published, so a re-run publishes nothing.
    await streaming.publish_notifications(services, made)
    return made


@outbox.handles("post.created")
async def _post_created(conn: Conn, event: OutboxEvent, services: Services) -> None:
    facts = await notifications_sql.post_facts(conn, post_id=int(event.payload["post_id"]))
    if facts is None or facts.deleted:
        return
    if facts.share_of_id is not None:
        if facts.shared_author_id is not None:
            await _notify(
                conn,
                services,
                [(facts.shared_author_id, "share")],
                actor_id=facts.account_id,
                post_id=facts.share_of_id,
            )
        return
    # Someone both replied to and mentioned hears of it once, as a mention (as Mastodon).
    recipients = [(account_id, "mention") for account_id in facts.mentioned_ids]
    if facts.reply_author_id is not None and facts.reply_author_id not in facts.mentioned_ids:
        recipients.append((facts.reply_author_id, "reply"))
    await _notify(conn, services, recipients, actor_id=facts.account_id, post_id=facts.id)


@outbox.handles("post.liked")
async def _post_liked(conn: Conn, event: OutboxEvent, services: Services) -> None:
    post_id = int(event.payload["post_id"])
    facts = await notifications_sql.post_facts(conn, post_id=post_id)
    if facts is None or facts.deleted:
        return
    await _notify(
        conn,
        services,
        [(facts.account_id, "like")],
        actor_id=int(event.payload["account_id"]),
        post_id=post_id,
    )


@outbox.handles("follow.requested")
async def _follow_requested(conn: Conn, event: OutboxEvent, services: Services) -> None:
    followee_id = int(event.payload["followee_id"])
    follower_id = int(event.payload["follower_id"])
    await _notify(
        conn, services, [(followee_id, "follow_request")], actor_id=follower_id, post_id=None
    )


@outbox.handles("follow.accepted")
async def _follow_accepted(conn: Conn, event: OutboxEvent, services: Services) -> None:
    followee_id = int(event.payload["followee_id"])
    follower_id = int(event.payload["follower_id"])
    # A request the followee approved was already notified as a follow_request; they
    # accepted it themselves, so (as Mastodon) no second "follow" notification.
    if await notifications_sql.has_notification(
        conn, account_id=followee_id, type="follow_request", from_account_id=follower_id
    ):
        return
    await _notify(conn, services, [(followee_id, "follow")], actor_id=follower_id, post_id=None)


async def dismiss(services: Services, viewer_id: int, notification_id: int) -> None:
    """Delete one of the viewer's notifications (NotFound when it is not theirs)."""
    async with services.pool.acquire() as conn:
        if not await notifications_sql.dismiss(
            conn, account_id=viewer_id, notification_id=notification_id
        ):
            raise NotFound("no such notification")


async def clear(services: Services, viewer_id: int) -> int:
    """Delete all of the viewer's notifications; how many there were."""
    async with services.pool.acquire() as conn:
        return await notifications_sql.clear(conn, account_id=viewer_id)
