"""What RSS and Atom feeds list: a local account's latest public posts, or a tag's."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain.accounts import find_account
from stgy.domain.errors import NotFound
from stgy.domain.text import normalise_tag
from stgy.services import Services
from storage import feeds as feeds_sql
from storage import posts as posts_sql
from storage import public_timelines as public_sql
from storage.accounts import Account
from storage.posts import PostView

FEED_SIZE = 20


@dataclass(frozen=True)
class AccountFeed:
    account: Account
    posts: list[PostView]  # newest first


@dataclass(frozen=True)
class TagFeed:
    tag: str  # normalised
    posts: list[PostView]  # newest first


async def account_feed(services: Services, acct: str) -> AccountFeed:
    """A local account's latest public posts (no shares, no replies to others). NotFound
    for an unknown, suspended or remote account: its feed is its own server's to give."""
    account = await find_account(services, acct)
    if not account.is_local:
        raise NotFound("no such account")
    async with services.pool.acquire() as conn:
        ids = await feeds_sql.account_feed_ids(conn, account_id=account.id, limit=FEED_SIZE)
        views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=None)
    return AccountFeed(account, _shown(ids, views))


async def tag_feed(services: Services, tag: str) -> TagFeed:
    """The latest public posts with a tag, as its page shows them to someone logged out."""
    name = normalise_tag(tag.removeprefix("#"))
    if name is None:
        raise NotFound("no such tag")
    async with services.pool.acquire() as conn:
        ids = await public_sql.tag_ids(
            conn,
            tags=[name],
            all_tags=[],
            none_tags=[],
            viewer_id=None,
            since=None,
            until=None,
            limit=FEED_SIZE,
        )
        views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=None)
    return TagFeed(name, _shown(ids, views))


def _shown(ids: list[int], views: dict[int, PostView]) -> list[PostView]:
    return [views[i] for i in ids if i in views and views[i].shown]
