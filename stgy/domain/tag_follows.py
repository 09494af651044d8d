"""Followed hashtags: a person follows a tag and the public posts that carry it come into
their home timeline (fan-out by outbox handlers, as for the accounts they follow)."""

from __future__ import annotations

from stgy.domain.errors import Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.domain.text import normalise_tag
from stgy.services import Services
from storage import tag_follows as tag_follows_sql
from storage.db import Conn
from storage.outbox import OutboxEvent
from storage.tag_follows import FollowedTag

MAX_FOLLOWED = 1000  # per account, so one person's follows stay a small index range


def tag_name(given: str) -> str:
    """The stored form of a tag named in a path (with or without '#'); NotFound when it is
    no tag, as Mastodon answers."""
    name = normalise_tag(given.removeprefix("#"))
    if name is None:
        raise NotFound("no such tag")
    return name


async def follow(services: Services, viewer_id: int, given: str) -> str:
    name = tag_name(given)
    async with services.pool.acquire() as conn, conn.transaction():
        if name not in await tag_follows_sql.following(conn, account_id=viewer_id, tags=[name]):
            found = await tag_follows_sql.page(
                conn, account_id=viewer_id, until=None, since=None, limit=MAX_FOLLOWED
            )
            if len(found) >= MAX_FOLLOWED:
                raise Invalid("tag", f"at most {MAX_FOLLOWED} followed tags")
        await tag_follows_sql.follow(conn, account_id=viewer_id, tag=name)
    return name


async def unfollow(services: Services, viewer_id: int, given: str) -> str:
    name = tag_name(given)
    async with services.pool.acquire() as conn:
        await tag_follows_sql.unfollow(conn, account_id=viewer_id, tag=name)
    return name


async def following(services: Services, viewer_id: int, names: list[str]) -> set[str]:
    if not names:
        return set()
    async with services.pool.acquire() as conn:
        return await tag_follows_sql.following(conn, account_id=viewer_id, tags=names)


async def followed(
    services: Services, viewer_id: int, *, until: int | None, since: int | None, limit: int
) -> list[FollowedTag]:
    async with services.pool.acquire() as conn:
        return await tag_follows_sql.page(
            conn, account_id=viewer_id, until=until, since=since, limit=limit
        )


@outbox.handles("post.created")
async def fan_out_tagged_post(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await tag_follows_sql.fan_out(conn, post_id=int(event.payload["post_id"]))


@outbox.handles("post.deleted")
async def remove_tagged_post(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await tag_follows_sql.remove_post(conn, post_id=int(event.payload["post_id"]))
