"""Live events of the public, tag and list streams: one message per post on a shared
channel (not one per subscriber), which each subscriber filters for its viewer."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from stgy.config import Config
from stgy.domain import streaming
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import lists as lists_sql
from storage import streams as streams_sql
from storage.db import Conn
from storage.outbox import OutboxEvent

log = logging.getLogger("stgy.streaming")


def public_channel(config: Config) -> str:
    """Every public original post known here, local and remote (flags tell them apart)."""
    return f"{config.namespace}:stream:public"


def tag_channel(config: Config, tag: str) -> str:
    """Public originals with a tag (its normalised name, as post_tags keeps it)."""
    return f"{config.namespace}:stream:tag:{tag}"


def list_channel(config: Config, list_id: int) -> str:
    return f"{config.namespace}:stream:list:{list_id}"


# ---- lists


async def owns_list(services: Services, account_id: int, list_id: int) -> bool:
    """Whether the account owns list `list_id` (someone else's is refused as unknown)."""
    async with services.pool.acquire() as conn:
        return await lists_sql.owner_of(conn, list_id=list_id) == account_id


async def _streamed_lists(services: Services) -> list[int]:
    """Lists with a stream open right now: the list channels that have subscribers."""
    prefix = list_channel(services.config, 0)[:-1]
    try:
        channels = await services.redis.pubsub_channels(f"{prefix}*")
    except (RedisError, OSError) as exc:
        log.warning("stream_lists_failed error=%r", str(exc))
        return []
    found = []
    for channel in channels:
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        suffix = name[len(prefix) :]
        if suffix.isascii() and suffix.isdigit() and len(suffix) <= 18:
            found.append(int(suffix))
    return found


async def lists_of_post(conn: Conn, services: Services, post_id: int, kind: str) -> list[int]:
    """The streamed lists whose timeline has this post: those the fan-out wrote it into
    (their members and replies policy, in this same transaction); for a deletion, the
    lists holding its author (its entries may be gone already). Only lists with a stream
    open are asked about."""
    streamed = await _streamed_lists(services)
    if not streamed:
        return []
    if kind == "delete":
        return await streams_sql.lists_of_author(conn, post_id=post_id, among=streamed)
    return await streams_sql.lists_with_entry(conn, post_id=post_id, among=streamed)


# ---- whether a viewer sees a post on a public stream


async def public_visible(services: Services, viewer_id: int, post_id: int) -> bool:
    """The public timeline's rule for one post and viewer (blocks, mutes, limited
    accounts and domains, visibility), asked of each post a public stream sends."""
    async with services.pool.acquire() as conn:
        return await streams_sql.public_visible(conn, post_id=post_id, viewer_id=viewer_id)


# ---- publishing, from the outbox


@outbox.handles("post.created")
async def _publish_created(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await _publish(conn, services, "update", int(event.payload["post_id"]))


@outbox.handles("post.updated")
async def _publish_edited(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await _publish(conn, services, "status.update", int(event.payload["post_id"]))


@outbox.handles("post.deleted")
async def _publish_deleted(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await _publish(conn, services, "delete", int(event.payload["post_id"]))


async def _publish(conn: Conn, services: Services, kind: str, post_id: int) -> None:
    facts = await streams_sql.stream_facts(conn, post_id=post_id)
    if facts is None:
        return
    message = streaming.post_message(
        kind, post_id, local=facts.local, media=facts.media, direct=facts.direct
    )
    listed = await lists_of_post(conn, services, post_id, kind)
    channels = [list_channel(services.config, n) for n in listed]
    # Only public originals go on the public and tag channels; what else a post is
    # (followers-only, direct, a share) never reaches a subscriber there.
    if facts.public:
        channels.append(public_channel(services.config))
        channels += [tag_channel(services.config, tag) for tag in facts.tags]
    if channels:
        await streaming.publish_raw(services, [(channel, message) for channel in channels])
