"""Conversations: the threads of direct posts each local person is part of, newest first,
with what they have not read; kept by outbox handlers as direct posts come and go."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain import streaming
from stgy.domain.errors import NotFound
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import conversations as conversations_sql
from storage import posts as posts_sql
from storage.accounts import Account
from storage.conversations import Conversation
from storage.db import Conn
from storage.outbox import OutboxEvent
from storage.posts import PostView


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    last_post: PostView
    # The other people in the last post (its author and those it mentions, less the
    # viewer), by id.
    accounts: list[Account]


async def _views(conn: Conn, viewer_id: int, found: list[Conversation]) -> list[ConversationView]:
    post_ids = [c.last_post_id for c in found]
    posts = await posts_sql.load_views(conn, post_ids=post_ids, viewer_id=viewer_id)
    people = await conversations_sql.participants(conn, post_ids=post_ids)
    others = {i for ids in people.values() for i in ids if i != viewer_id}
    accounts = await accounts_sql.get_accounts(conn, account_ids=sorted(others))
    views = []
    for conversation in found:
        post = posts.get(conversation.last_post_id)
        if post is None or post.deleted_at is not None:
            continue  # deleted since: the handler for its deletion is on its way
        with_them = [
            accounts[i]
            for i in people.get(conversation.last_post_id, [])
            if i != viewer_id and i in accounts
        ]
        views.append(ConversationView(conversation, post, with_them))
    return views


async def page(
    services: Services,
    viewer_id: int,
    *,
    until: int | None,
    since: int | None,
    just_above: int | None,
    limit: int,
) -> list[ConversationView]:
    """The viewer's conversations, by their newest post (see storage.conversations.page)."""
    async with services.pool.acquire() as conn:
        found = await conversations_sql.page(
            conn,
            account_id=viewer_id,
            until=until,
            since=since,
            just_above=just_above,
            limit=limit,
        )
        return await _views(conn, viewer_id, found)


async def mark_read(services: Services, viewer_id: int, conversation_id: int) -> ConversationView:
    async with services.pool.acquire() as conn:
        done = await conversations_sql.mark_read(
            conn, account_id=viewer_id, conversation_id=conversation_id
        )
        views = await _views(conn, viewer_id, [done]) if done is not None else []
    if not views:
        raise NotFound("no such conversation")
    return views[0]


async def remove(services: Services, viewer_id: int, conversation_id: int) -> None:
    """Out of the viewer's list (the posts stay); a new post in the thread brings it back."""
    async with services.pool.acquire() as conn:
        if not await conversations_sql.remove(
            conn, account_id=viewer_id, conversation_id=conversation_id
        ):
            raise NotFound("no such conversation")


async def views_of(services: Services, found: list[Conversation]) -> list[ConversationView]:
    """Conversation rows just written, each as its own person sees it (for streams)."""
    views: list[ConversationView] = []
    async with services.pool.acquire() as conn:
        for conversation in found:
            views += await _views(conn, conversation.account_id, [conversation])
    return views


@outbox.handles("post.created")
async def record_direct_post(conn: Conn, event: OutboxEvent, services: Services) -> None:
    written = await conversations_sql.record_post(conn, post_id=int(event.payload["post_id"]))
    await streaming.publish_conversations(services, written)


@outbox.handles("post.deleted")
async def forget_deleted_post(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await conversations_sql.forget_post(conn, post_id=int(event.payload["post_id"]))
