"""Outbox handlers that keep home (and list) timelines: fan-out of new posts and shares, removal of
deleted ones, backfill when a follow is accepted, removal when it ends.

Each runs in the transaction that marks its event done, with set-based statements only
(never one statement per follower), and leaves the same rows however often it runs.
"""

from __future__ import annotations

from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import follows as follows_sql
from storage import list_timelines as list_timelines_sql
from storage import timelines as timelines_sql
from storage.db import Conn
from storage.outbox import OutboxEvent

# Followers per INSERT ... SELECT, so one statement never holds millions of rows.
FAN_OUT_BATCH = 10_000
# A new follow brings this many of the followee's newest posts into the home timeline.
BACKFILL = 40


@outbox.handles("post.created")
async def fan_out_post(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """Into the home timelines of the author's local accepted followers (not direct posts),
    and of the local accounts a direct post mentions."""
    await fan_out_to_home(conn, int(event.payload["post_id"]))


async def fan_out_to_home(conn: Conn, post_id: int) -> None:
    """A post into its readers' home timelines, in batches of followers (see fan_out_post),
    and into the lists that hold its author; also used for remote posts fetched after the
    fact, which have no `post.created`."""
    after = 0
    while True:
        last = await timelines_sql.fan_out_to_followers(
            conn, post_id=post_id, after=after, batch=FAN_OUT_BATCH
        )
        if last is None:
            break
        after = last
    await timelines_sql.fan_out_to_mentioned(conn, post_id=post_id)
    await list_timelines_sql.fan_out_to_lists(conn, post_id=post_id)


@outbox.handles("post.deleted")
async def remove_deleted_post(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """The post and the shares of it leave every home timeline."""
    await timelines_sql.remove_post(conn, post_id=int(event.payload["post_id"]))


@outbox.handles("follow.accepted")
async def backfill_follow(conn: Conn, event: OutboxEvent, services: Services) -> None:
    follower_id = int(event.payload["follower_id"])
    followee_id = int(event.payload["followee_id"])
    # Skipped when the follow already ended; an unfollow waits for this transaction.
    if await follows_sql.lock_accepted(conn, follower_id=follower_id, followee_id=followee_id):
        await timelines_sql.backfill(
            conn, follower_id=follower_id, followee_id=followee_id, limit=BACKFILL
        )


@outbox.handles("follow.removed")
async def remove_unfollowed(conn: Conn, event: OutboxEvent, services: Services) -> None:
    if event.payload.get("state", "accepted") != "accepted":
        return  # a pending request brought nothing into the timeline
    await timelines_sql.remove_author(
        conn,
        owner_id=int(event.payload["follower_id"]),
        author_id=int(event.payload["followee_id"]),
    )
