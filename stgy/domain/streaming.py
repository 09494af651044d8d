"""Live events per user over Redis pub/sub: publishing them, and one subscriber per stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator
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
    """A post landed in the user's home timeline."""

    post_id: int


StreamItem = Keepalive | NotificationEvent | UpdateEvent


def user_channel(config: Config, account_id: int) -> str:
    # Prefixed like the queue, so two instances (or test runs) on one Redis never mix.
    return f"{config.namespace}:stream:user:{account_id}"


async def publish(services: Services, messages: list[tuple[int, dict[str, Any]]]) -> None:
    """Publish each (account id, message) on that user's channel, a pipeline per batch.

    Best effort: streams are a convenience on top of what the database holds, so a
    Redis failure is logged, never raised (it must not roll back the caller's work).
    """
    try:
        for start in range(0, len(messages), PUBLISH_BATCH):
            async with services.redis.pipeline(transaction=False) as pipe:
                for account_id, message in messages[start : start + PUBLISH_BATCH]:
                    pipe.publish(user_channel(services.config, account_id), json.dumps(message))
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
                },
            )
            for n in notifications
        ],
    )


def parse_message(data: bytes | str) -> StreamItem | None:
    """A published message as a stream item; None for anything malformed or unknown."""
    try:
        body = json.loads(data)
        if body["event"] == "update":
            return UpdateEvent(int(body["post_id"]))
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
            )
            return NotificationEvent(notification)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("stream_message_malformed error=%r", str(exc))
    return None


async def user_stream(
    services: Services,
    account_id: int,
    closing: asyncio.Event,
    keepalive_seconds: float | None = None,
) -> AsyncGenerator[StreamItem, None]:
    """Items for one user's stream until `closing` is set or the consumer stops.

    The first item is a Keepalive sent once subscribed, so a client knows from then
    on nothing is missed. Each stream has its own Redis connection (a PubSub), closed
    when the consumer goes away: cancellation on client disconnect, or aclose().
    """
    every = keepalive_seconds or KEEPALIVE_SECONDS
    pubsub = services.redis.pubsub()
    stop = asyncio.ensure_future(closing.wait())
    reading: asyncio.Future[Any] | None = None
    try:
        await pubsub.subscribe(user_channel(services.config, account_id))
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
        log.warning("stream_ended account=%s error=%r", account_id, str(exc))
    finally:
        for task in (reading, stop):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                    await task
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()


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
    online = await online_accounts(services)
    if not online:
        return
    post_id = int(event.payload["post_id"])
    recipients = await notifications_sql.stream_recipients(conn, post_id=post_id, among=online)
    message = {"event": "update", "post_id": post_id}
    await publish(services, [(account_id, message) for account_id in recipients])
