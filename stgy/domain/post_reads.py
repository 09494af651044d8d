"""Reading posts: a post with its thread around it, and an account's posts as a viewer
sees them."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain.errors import NotFound
from stgy.services import Services
from storage import account_posts as account_posts_sql
from storage import accounts as accounts_sql
from storage import posts as posts_sql
from storage.posts import PostView

THREAD_DEPTH = 40
THREAD_REPLIES = 40


@dataclass(frozen=True)
class Thread:
    post: PostView
    ancestors: list[PostView]
    replies: list[PostView]


async def get_thread(services: Services, post_id: int, viewer_id: int | None) -> Thread:
    """A post with the visible chain above it and the first visible direct replies."""
    async with services.pool.acquire() as conn:
        views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=viewer_id)
        post = views.get(post_id)
        if post is None or not post.shown:
            raise NotFound("no such post")
        if post.share_of_id is not None:
            return Thread(post, [], [])
        above = await posts_sql.ancestor_ids(
            conn, post_id=post_id, viewer_id=viewer_id, limit=THREAD_DEPTH
        )
        below = await posts_sql.reply_ids(
            conn, post_id=post_id, viewer_id=viewer_id, limit=THREAD_REPLIES
        )
        around = await posts_sql.load_views(conn, post_ids=above + below, viewer_id=viewer_id)
    return Thread(
        post,
        [around[i] for i in above if i in around],
        [around[i] for i in below if i in around],
    )


async def account_posts(
    services: Services,
    account_id: int,
    viewer_id: int | None,
    *,
    since: int | None,
    until: int | None,
    limit: int,
    shown: account_posts_sql.AccountPostFilter | None = None,
    ascending: bool = False,
) -> list[PostView]:
    """An account's posts and shares the viewer may see (those `shown` lets through),
    newest first (three queries); `ascending`: the `limit` just above `since`."""
    async with services.pool.acquire() as conn:
        account = await accounts_sql.get_account(conn, account_id=account_id)
        if account is None or not account.active:
            raise NotFound("no such account")
        ids = await account_posts_sql.account_post_ids(
            conn,
            account_id=account_id,
            viewer_id=viewer_id,
            since=since,
            until=until,
            limit=limit,
            shown=shown or account_posts_sql.AccountPostFilter(),
            ascending=ascending,
        )
        if ascending:
            ids.reverse()
        views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=viewer_id)
    return [views[i] for i in ids if i in views]
