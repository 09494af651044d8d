"""A post's context (the posts above it and the replies below it), and for a remote post
the job that fetches what we lack of its thread from the servers that have it.

Reading is from the database only. For a remote post, the reading also enqueues
`fetch_context` (one per post at a time): it walks the `inReplyTo` chain up to
`ANCESTOR_DEPTH` posts, and the `replies` collections below the post (pages followed,
replies of replies too) until `REPLIES_LIMIT` replies were looked at, all within
`REQUEST_BUDGET` requests. The next reading shows what it stored.
"""

from __future__ import annotations

import logging
from collections import deque
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from federation.values import id_of
from stgy.domain.errors import NotFound
from stgy.domain.remote.remote_documents import Fetcher, FetchFailed, collection_items, note_of
from stgy.domain.remote.remote_keys import host_of
from stgy.domain.remote.remote_posts import author_of, save_fetched_note
from stgy.domain.remote.resolve import enqueue_fetch, fetch_actor_account
from stgy.jobs import FETCH_CONTEXT
from stgy.services import Services
from storage import fetched as fetched_sql
from storage import posts as posts_sql
from storage import remote_accounts as remote_sql
from storage.fetched import ThreadPost
from storage.posts import PostView

log = logging.getLogger("stgy.fetch")

ANCESTOR_DEPTH = 20
REPLIES_LIMIT = 100
REPLY_PAGES = 10
REQUEST_BUDGET = 300
# What a reading shows at most.
SHOWN_ANCESTORS = 40
SHOWN_DESCENDANTS = 200
SHOWN_DEPTH = 40


@dataclass(frozen=True)
class Context:
    ancestors: list[PostView]
    descendants: list[PostView]


async def get_context(services: Services, post_id: int, viewer_id: int | None) -> Context:
    """The visible posts above a post (oldest first) and below it (depth first)."""
    async with services.pool.acquire() as conn:
        post = (await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=viewer_id)).get(
            post_id
        )
        if post is None or not post.shown:
            raise NotFound("no such post")
        if post.share_of_id is not None:
            return Context([], [])
        above = await posts_sql.ancestor_ids(
            conn, post_id=post_id, viewer_id=viewer_id, limit=SHOWN_ANCESTORS
        )
        below = await fetched_sql.descendant_ids(
            conn, post_id=post_id, viewer_id=viewer_id, depth=SHOWN_DEPTH, limit=SHOWN_DESCENDANTS
        )
        around = await posts_sql.load_views(conn, post_ids=above + below, viewer_id=viewer_id)
    if not post.account.is_local and services.config.federation.enabled:
        await enqueue_fetch(services, FETCH_CONTEXT, post_id, post_id=post_id)
    return Context(
        [around[i] for i in above if i in around], [around[i] for i in below if i in around]
    )


async def fetch_context(services: Services, post_id: int) -> tuple[int, int]:
    """The job: store the missing posts of a remote post's thread; (ancestors, replies)
    newly stored."""
    async with services.pool.acquire() as conn:
        post = await fetched_sql.thread_post(conn, post_id=post_id)
    if post is None or post.local:
        return 0, 0
    fetcher = Fetcher(services, REQUEST_BUDGET)
    ancestors = await _fetch_ancestors(fetcher, post)
    replies = await _fetch_replies(fetcher, post)
    log.info("context_fetched post=%d ancestors=%d replies=%d", post_id, ancestors, replies)
    return ancestors, replies


async def _save(fetcher: Fetcher, note: dict[str, Any]) -> int | None:
    """Store a fetched Note, fetching its author first when we do not know it."""
    services = fetcher.services
    author_id = author_of(note)
    if author_id is None:
        return None
    async with services.pool.acquire() as conn:
        author = await remote_sql.find_by_ap_id(conn, ap_id=author_id)
    if author is None:
        if not fetcher.spend():
            return None
        try:
            author = await fetch_actor_account(services, author_id, client=None, backfill=False)
        except NotFound:
            return None
    return await save_fetched_note(services, note, author)


async def _fetch_ancestors(fetcher: Fetcher, post: ThreadPost) -> int:
    services = fetcher.services
    current: ThreadPost | None = post
    stored = 0
    for _ in range(ANCESTOR_DEPTH):
        if current is None or current.in_reply_to_ap_id is None:
            break
        parent_id = current.in_reply_to_id
        if parent_id is None:
            async with services.pool.acquire() as conn:
                parent_id = await fetched_sql.post_id_by_ap_id(
                    conn, ap_id=current.in_reply_to_ap_id
                )
        if parent_id is None:
            url = current.in_reply_to_ap_id
            if host_of(url) == services.config.instance.domain.lower():
                break  # ours, and not here: deleted or never was
            try:
                note = await note_of(fetcher, url, host_of(url) or "")
            except FetchFailed:
                break
            parent_id = await _save(fetcher, note) if note is not None else None
            if parent_id is None:
                break
            stored += 1
        async with services.pool.acquire() as conn:
            current = await fetched_sql.thread_post(conn, post_id=parent_id)
    return stored


async def _fetch_replies(fetcher: Fetcher, post: ThreadPost) -> int:
    """Breadth first through the `replies` collections below the post."""
    services = fetcher.services
    local_host = services.config.instance.domain.lower()
    try:
        root = await fetcher.get(post.ap_id)
    except FetchFailed:
        return 0
    if root is None:
        return 0
    queue: deque[dict[str, Any]] = deque([root])
    seen: set[str] = {post.ap_id}
    looked_at = stored = 0
    while queue and looked_at < REPLIES_LIMIT and fetcher.left > 0:
        note = queue.popleft()
        note_host = host_of(str(note.get("id", ""))) or ""
        replies = note.get("replies")
        if replies is None:
            continue
        items = collection_items(fetcher, replies, note_host, max_pages=REPLY_PAGES)
        async with aclosing(items):
            try:
                async for item, page_host in items:
                    item_id = id_of(item)
                    if item_id is None or item_id in seen or host_of(item_id) == local_host:
                        continue
                    seen.add(item_id)
                    looked_at += 1
                    reply = await note_of(fetcher, item, page_host)
                    if reply is not None:
                        async with services.pool.acquire() as conn:
                            saved = await fetched_sql.post_id_by_ap_id(conn, ap_id=item_id)
                        if saved is None:
                            saved = await _save(fetcher, reply)
                            stored += saved is not None
                        if saved is not None:
                            queue.append(reply)
                    if looked_at >= REPLIES_LIMIT:
                        break
            except FetchFailed:
                continue  # this collection did not answer; go on with the others
    return stored
