"""Pages of posts as JSON bytes from stored renderings (filled on a miss), and the outbox
handlers that drop renderings once what they show has changed.

A page is one statement when every post, original and author on it has a current
rendering; otherwise the missing ones are loaded (one statement), rendered by the
API's serializer and stored (one statement), and the page assembled again. Stale
renderings are never used (their version no longer matches the row), so the
handlers below only keep the tables small, except for one case: a post shows the
handles of the accounts it mentions, which its own version does not cover, so a
profile change drops the renderings of the posts mentioning that account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from stgy.domain import outbox
from stgy.services import Services
from storage import posts as posts_sql
from storage import renderings as renderings_sql
from storage.accounts import Account
from storage.db import Conn
from storage.outbox import OutboxEvent
from storage.posts import PostView
from storage.renderings import RenderedPage, Rendering

log = logging.getLogger("stgy.renderings")

# Fill-and-assemble rounds before a page goes out without the posts still missing
# (only posts edited again during each round can stay missing).
FILL_ROUNDS = 2


@dataclass(frozen=True)
class PageRenderer:
    """How the API renders what pages store; `format` changes whenever the output does."""

    format: int
    post: Callable[[PostView], str]
    account: Callable[[Account], str]


def _renderings(
    views: list[PostView], renderer: PageRenderer
) -> tuple[list[Rendering], list[Rendering]]:
    posts: list[Rendering] = []
    accounts: list[Rendering] = []
    for view in views:
        for shown in (view, view.share_of):
            if shown is None:
                continue
            version = shown.edited_at or shown.created_at
            posts.append(Rendering(shown.id, version, renderer.post(shown)))
            author = shown.account
            accounts.append(Rendering(author.id, author.updated_at, renderer.account(author)))
    return posts, accounts


async def render_page(
    conn: Conn, renderer: PageRenderer, post_ids: list[int], viewer_id: int | None
) -> RenderedPage:
    """The posts' JSON in the order of `post_ids` for the viewer, filling missing renderings."""
    if not post_ids:
        return RenderedPage(b"", None, None, [])
    page = await renderings_sql.render_page(
        conn, post_ids=post_ids, viewer_id=viewer_id, format=renderer.format
    )
    for _ in range(FILL_ROUNDS):
        if not page.missing:
            return page
        # The viewer's own state is not part of a rendering: load as nobody.
        views = await posts_sql.load_views(conn, post_ids=page.missing, viewer_id=None)
        posts, accounts = _renderings(list(views.values()), renderer)
        await renderings_sql.store(conn, posts=posts, accounts=accounts, format=renderer.format)
        page = await renderings_sql.render_page(
            conn, post_ids=post_ids, viewer_id=viewer_id, format=renderer.format
        )
    if page.missing:
        log.warning("page_left_out posts=%d (changed while rendering)", len(page.missing))
    return page


@outbox.handles("post.updated")
@outbox.handles("post.deleted")
async def drop_post_rendering(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await renderings_sql.drop_post(conn, post_id=int(event.payload["post_id"]))


@outbox.handles("account.updated")
async def drop_account_renderings(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """The profile, and the posts mentioning the account (its handle may have changed)."""
    await renderings_sql.drop_account(conn, account_id=int(event.payload["account_id"]))


@outbox.handles("account.deleted")
async def drop_deleted_account(conn: Conn, event: OutboxEvent, services: Services) -> None:
    account_id = int(event.payload["account_id"])
    await renderings_sql.drop_account(conn, account_id=account_id)
    await renderings_sql.drop_account_posts(conn, account_id=account_id)


async def drop_all(services: Services) -> int:
    async with services.pool.acquire() as conn:
        return await renderings_sql.drop_all(conn)
