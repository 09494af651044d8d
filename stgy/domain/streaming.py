"""Live events over Redis pub/sub: per-user channels, publishing, and one subscriber per
channel (the public, tag and list channels: stgy/domain/public_streams.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from stgy.config import Config
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import notifications as notifications_sql
from storage import posts as posts_sql
from storage import sessions as sessions_sql
from storage import streams as streams_sql
from storage.conversations import Conversation
from storage.db import Conn
from storage.notifications import Notification
from storage.outbox import OutboxEvent
from storage.posts import PostView
from storage.sessions import Viewer

log = logging.getLogger("stgy.streaming")

KEEPALIVE_SECONDS = 15.0
# Publishes per Redis round trip (a post of a popular account goes to many channels).
PUBLISH_BATCH = 1000


@dataclass(frozen=True)
class Keepalive:
    """Nothing happened for a while: the stream sends a comment so proxies keep it open."""


@dataclass(frozen=True)
class NotificationEvent:
    notification: Notification


@dataclass(frozen=True)
class UpdateEvent:
    """A post landed in the user's home timeline (or on a public or tag channel).

    The flags let a subscriber filter without reading the post: from this instance,
    with media, direct."""

    post_id: int
    local: bool = True
    media: bool = False
    direct: bool = False


@dataclass(frozen=True)
class EditEvent:
    """A post the channel carried was edited."""

    post_id: int
    local: bool = True
    media: bool = False
    direct: bool = False


@dataclass(frozen=True)
class DeleteEvent:
    """A post the channel carried was deleted."""

    post_id: int
    local: bool = True
    media: bool = False
    direct: bool = False


@dataclass(frozen=True)
class ConversationEvent:
    """A direct post became the last of one of the user's conversations."""

    conversation: Conversation


@dataclass(frozen=True)
class FiltersChanged:
    """The user's keyword filters changed: clients fetch them again."""


PostEvent = UpdateEvent | EditEvent | DeleteEvent
StreamItem = Keepalive | NotificationEvent | PostEvent | ConversationEvent | FiltersChanged
_POST_EVENTS: dict[str, type[PostEvent]] = {
    "update": UpdateEvent,
    "status.update": EditEvent,
    "delete": DeleteEvent,
}


def post_message(event: str, post_id: int, *, local: bool, media: bool, direct: bool) -> str:
    """The published form of a post event (`event`: update, status.update or delete)."""
    return json.dumps(
        {"event": event, "post_id": post_id, "local": local, "media": media, "direct": direct}
    )


def user_channel(config: Config, account_id: int) -> str:
    # Prefixed like the queue, so two instances (or test runs) on one Redis never mix.
    return f"{config.namespace}:stream:user:{account_id}"


async def publish(services: Services, messages: list[tuple[int, dict[str, Any]]]) -> None:
    """Publish each (account id, message) on that user's channel, a pipeline per batch."""
    await publish_raw(
        services,
        [
            (user_channel(services.config, account_id), json.dumps(message))
            for account_id, message in messages
        ],
    )


async def publish_raw(services: Services, messages: list[tuple[str, str]]) -> None:
    """Publish each (channel, message text), a pipeline per batch.

    Best effort: streams are a convenience on top of what the database holds, so a
    Redis failure is logged, never raised (it must not roll back the caller's work).
    """
    try:
        for start in range(0, len(messages), PUBLISH_BATCH):
            async with services.redis.pipeline(transaction=False) as pipe:
                for channel, message in messages[start : start + PUBLISH_BATCH]:
                    pipe.publish(channel, message)
                await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("stream_publish_failed messages=%d error=%r", len(messages), str(exc))


async def publish_notifications(services: Services, notifications: list[Notification]) -> None:
    """Publish new notifications whole: the handler that made them has not committed yet,
    so a subscriber must not have to read the row back."""
    await publish(
        services,
        [
            (
                n.account_id,
                {
                    "event": "notification",
                    "id": n.id,
                    "type": n.type,
                    "account_id": n.account_id,
                    "from_account_id": n.from_account_id,
                    "post_id": n.post_id,
                    "created_at": n.created_at.timestamp(),
                    "group_key": n.group_key,
                },
            )
            for n in notifications
        ],
    )


def parse_message(data: bytes | str) -> StreamItem | None:
    """A published message as a stream item; None for anything malformed or unknown."""
    try:
        body = json.loads(data)
        kind = _POST_EVENTS.get(body["event"])
        if kind is not None:
            return kind(
                int(body["post_id"]),
                local=bool(body.get("local", True)),
                media=bool(body.get("media", False)),
                direct=bool(body.get("direct", False)),
            )
        if body["event"] == "filters_changed":
            return FiltersChanged()
        if body["event"] == "conversation":
            return ConversationEvent(
                Conversation(
                    id=int(body["id"]),
                    account_id=int(body["account_id"]),
                    last_post_id=int(body["last_post_id"]),
                    unread=bool(body["unread"]),
                )
            )
        if body["event"] == "notification":
            post_id = body["post_id"]
            notification = Notification(
                id=int(body["id"]),
                account_id=int(body["account_id"]),
                type=str(body["type"]),
                from_account_id=int(body["from_account_id"]),
                post_id=int(post_id) if post_id is not None else None,
                created_at=datetime.fromtimestamp(float(body["created_at"]), UTC),
                read_at=None,
                group_key=str(body["group_key"]) if body.get("group_key") else None,
            )
            return NotificationEvent(notification)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("stream_message_malformed error=%r", str(exc))
    return None


def user_stream(
    services: Services,
    account_id: int,
    closing: asyncio.Event,
    keepalive_seconds: float | None = None,
) -> AsyncGenerator[StreamItem, None]:
    """Items for one user's stream until `closing` is set or the consumer stops."""
    channel = user_channel(services.config, account_id)
    return channel_stream(services, channel, closing, keepalive_seconds)


async def channel_stream(
    services: Services,
    channel: str,
    closing: asyncio.Event,
    keepalive_seconds: float | None = None,
    *,
    ended: asyncio.Event | None = None,
) -> AsyncGenerator[StreamItem, None]:
    """Items published on one channel until `closing` (or `ended`) is set or the
    consumer stops.

    The first item is a Keepalive sent once subscribed, so a client knows from then
    on nothing is missed. Each stream has its own Redis connection (a PubSub), closed
    when the consumer goes away: cancellation on client disconnect, or aclose().
    `ended` is the consumer's own stop: a cancellation that lands while redis-py is
    subscribing can be swallowed there, and the event still ends the stream.
    """
    every = keepalive_seconds or KEEPALIVE_SECONDS
    pubsub = services.redis.pubsub()
    stops = [closing.wait()] if ended is None else [closing.wait(), ended.wait()]
    stop = asyncio.ensure_future(_first(stops))
    reading: asyncio.Future[Any] | None = None
    try:
        await _finish(pubsub.subscribe(channel), errors=False)
        yield Keepalive()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + every
        while not closing.is_set():
            remaining = max(0.0, deadline - loop.time())
            reading = asyncio.ensure_future(
                pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
            )
            await asyncio.wait({reading, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                break  # closing: the pending read is cancelled below
            message, reading = reading.result(), None
            if message is not None and message.get("type") == "message":
                item = parse_message(message["data"])
                if item is not None:
                    yield item
            if loop.time() >= deadline:
                yield Keepalive()
                deadline = loop.time() + every
    except (RedisError, OSError) as exc:
        # The client's EventSource reconnects; by then Redis may be back.
        log.warning("stream_ended channel=%s error=%r", channel, str(exc))
    finally:
        for task in (reading, stop):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                    await task
        await _finish(pubsub.aclose())  # type: ignore[no-untyped-call]


async def _finish(work: Coroutine[Any, Any, Any], *, errors: bool = True) -> None:
    """Run `work` to its end even if the caller is cancelled meanwhile (the caller's
    cancellation is raised after). A cancellation landing inside redis-py while it
    subscribes can be swallowed there, and one while a PubSub closes skips giving its
    connection back to the pool: a connection, and what it refers to, kept for good.
    `errors`: Redis errors are suppressed (closing), else raised (subscribing)."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(RedisError, OSError):
            await task
        raise
    except (RedisError, OSError):
        if not errors:
            raise


async def _first(waits: list[Coroutine[Any, Any, Any]]) -> None:
    """Returns when the first of `waits` does (the others are cancelled)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def session_active(services: Services, viewer: Viewer) -> bool:
    """Whether the login behind an open stream still holds (not logged out or suspended)."""
    async with services.pool.acquire() as conn:
        found = await sessions_sql.active_viewer(
            conn, session_id=viewer.session_id, account_id=viewer.account_id
        )
    return found is not None


async def post_view(services: Services, viewer_id: int, post_id: int) -> PostView | None:
    """The post an update event names, as the viewer sees it; None once deleted."""
    async with services.pool.acquire() as conn:
        views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=viewer_id)
    view = views.get(post_id)
    return view if view is not None and view.deleted_at is None else None


async def online_accounts(services: Services) -> list[int]:
    """Accounts with a stream open right now: the user channels that have subscribers."""
    prefix = user_channel(services.config, 0)[:-1]
    try:
        channels = await services.redis.pubsub_channels(f"{prefix}*")
    except (RedisError, OSError) as exc:
        log.warning("stream_online_failed error=%r", str(exc))
        return []
    online = []
    for channel in channels:
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        suffix = name[len(prefix) :]
        if suffix.isascii() and suffix.isdigit():
            online.append(int(suffix))
    return online


@outbox.handles("post.created")
async def _publish_update(conn: Conn, event: OutboxEvent, services: Services) -> None:
    # The fan-out handler decides which home timelines get the post; this repeats
    # its rule in one query so the streaming code needs nothing from it. Only
    # accounts with an open stream are asked about: a post to 10,000 followers of
    # whom 30 are online publishes 30 messages, not 10,000.
    await _publish_to_users(conn, services, "update", int(event.payload["post_id"]))


@outbox.handles("post.updated")
async def _publish_edit(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await _publish_to_users(conn, services, "status.update", int(event.payload["post_id"]))


@outbox.handles("post.deleted")
async def _publish_deletion(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await _publish_to_users(conn, services, "delete", int(event.payload["post_id"]))


async def _publish_to_users(conn: Conn, services: Services, kind: str, post_id: int) -> None:
    online = await online_accounts(services)
    if not online:
        return
    facts = await streams_sql.stream_facts(conn, post_id=post_id)
    if facts is None:
        return
    recipients = await notifications_sql.stream_recipients(
        conn, post_id=post_id, among=online, deleted=kind == "delete"
    )
    message = post_message(kind, post_id, local=facts.local, media=facts.media, direct=facts.direct)
    channels = [user_channel(services.config, account_id) for account_id in recipients]
    await publish_raw(services, [(channel, message) for channel in channels])


async def publish_conversations(services: Services, written: list[Conversation]) -> None:
    """Publish conversation rows just written, whole (their transaction is still open)."""
    await publish(
        services,
        [
            (
                c.account_id,
                {
                    "event": "conversation",
                    "id": c.id,
                    "account_id": c.account_id,
                    "last_post_id": c.last_post_id,
                    "unread": c.unread,
                },
            )
            for c in written
        ],
    )


async def publish_filters_changed(services: Services, account_id: int) -> None:
    """Tell the user's open streams that their filters changed (for the filters code)."""
    await publish(services, [(account_id, {"event": "filters_changed"})])
