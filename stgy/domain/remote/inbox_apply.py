"""What incoming activities about posts and follows of local accounts do: Follow,
Undo(Follow), Create(Note), Like, Announce and Delete (the rest: stgy.domain.remote.inbox_social).
Each runs in the transaction of the `inbox.received` event and is idempotent: applying
the same activity twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from federation.values import id_of
from stgy.domain import follows
from stgy.domain.jobs import outbox
from stgy.domain.remote import remote_posts
from stgy.domain.remote.remote_posts import (  # noqa: F401 - re-exported for the appliers
    PUBLIC_ADDRESSES,
    visibility_of,
)
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import follows as follows_sql
from storage import inbox as inbox_sql
from storage import inbox_social as social_sql
from storage import outbox as outbox_sql
from storage import post_writes
from storage import posts as posts_sql
from storage import relations as relations_sql
from storage import remote_accounts as remote_sql
from storage.accounts import Account
from storage.db import Conn
from storage.inbox import InboxActivity, PostTarget

# Posts a remote account may share: never followers-only, direct or local-only ones.
SHAREABLE = ("public", "unlisted")


class Ignored(Exception):
    """An activity that is valid but not applied here; the reason is kept on its row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    conn: Conn
    services: Services
    activity: InboxActivity
    actor: Account
    raw: dict[str, Any]  # the activity's JSON, parsed and checked against federation.limits

    async def emit(self, kind: str, payload: dict[str, Any]) -> None:
        """Record an event and apply its handlers now, in this transaction.

        A handler cannot enqueue after its own transaction commits, so the events an
        activity causes are applied with it and marked done: exactly once, together.
        """
        event_id = await outbox.record_event(self.conn, kind, payload)
        event = await outbox_sql.get_event(self.conn, event_id=event_id)
        assert event is not None  # noqa: S101 - inserted just above
        for handler in outbox.HANDLERS.get(kind, []):
            await handler(self.conn, event, self.services)
        await outbox_sql.mark_done(self.conn, event_id=event_id)


# --- follows --------------------------------------------------------------------------


async def _local_target(incoming: Incoming, object_id: str | None) -> Account:
    account = await remote_sql.find_by_ap_id(incoming.conn, ap_id=object_id) if object_id else None
    if account is None or not account.is_local or not account.active:
        raise Ignored("the object is not a local account")
    return account


async def apply_follow(incoming: Incoming) -> None:
    conn, actor = incoming.conn, incoming.actor
    target = await _local_target(incoming, id_of(incoming.raw.get("object")))
    if await relations_sql.blocked_either_way(conn, account_id=actor.id, other_id=target.id):
        raise Ignored("a block stands between these accounts")
    state = follows.PENDING if target.locked else follows.ACCEPTED
    created = await follows_sql.insert_follow(
        conn, follower_id=actor.id, followee_id=target.id, state=state
    )
    await inbox_sql.set_follow_ap_id(
        conn, follower_id=actor.id, followee_id=target.id, ap_id=incoming.activity.ap_id
    )
    if created is None:
        return  # already following or requested
    kind = "follow.accepted" if state == follows.ACCEPTED else "follow.requested"
    await incoming.emit(kind, {"follower_id": actor.id, "followee_id": target.id})


async def undo_follow(incoming: Incoming, obj: Any) -> None:
    conn, actor = incoming.conn, incoming.actor
    followee_id: int | None = None
    if isinstance(obj, dict):
        if id_of(obj.get("actor")) not in (None, actor.ap_id):
            raise Ignored("the Follow undone is not the actor's")
        target = id_of(obj.get("object"))
        if target is not None:
            followee_id = (await _local_target(incoming, target)).id
    object_id = id_of(obj)
    if followee_id is None and object_id is not None:
        followee_id = await inbox_sql.followee_of_follow(
            conn, follower_id=actor.id, ap_id=object_id
        )
    if followee_id is None:
        raise Ignored("no such follow")
    state = await follows_sql.delete_follow(conn, follower_id=actor.id, followee_id=followee_id)
    if state is not None:
        payload = {"follower_id": actor.id, "followee_id": followee_id, "state": state}
        await incoming.emit("follow.removed", payload)


# --- posts ----------------------------------------------------------------------------


async def apply_create(incoming: Incoming) -> None:
    conn, actor = incoming.conn, incoming.actor
    note = incoming.raw.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        raise Ignored("only Create of an embedded Note is supported")
    note_id = id_of(note)
    assert note_id is not None  # noqa: S101 - checked when the activity was taken in
    if await inbox_sql.find_post(conn, ap_id=note_id) is not None:
        return  # stored before
    mentioned = await remote_posts.mentioned_local_ids(conn, note)
    reply_to_ap_id = id_of(note.get("inReplyTo"))
    reply_to = await inbox_sql.find_post(conn, ap_id=reply_to_ap_id) if reply_to_ap_id else None
    replies_here = reply_to is not None and reply_to.local
    if (
        not mentioned
        and not replies_here
        and not await remote_sql.has_local_followers(conn, account_id=actor.id)
    ):
        raise Ignored("nobody here follows the author, is mentioned or replied to")
    if reply_to is not None and reply_to.local and not reply_to.allow_replies:
        # The post's interaction policy (GoToSocial's canReply): only those it mentions.
        if not await social_sql.is_mentioned(conn, post_id=reply_to.id, account_id=actor.id):
            raise Ignored("the author does not accept replies to this post")
    post_id = await remote_posts.store_note(
        conn, incoming.services, actor, note, mentioned=mentioned
    )
    if post_id is None:
        return
    await incoming.emit("post.created", {"post_id": post_id})


async def _local_post(incoming: Incoming) -> PostTarget:
    """The live local post the activity's object names, if the actor may see it."""
    object_id = id_of(incoming.raw.get("object"))
    post = await inbox_sql.find_post(incoming.conn, ap_id=object_id) if object_id else None
    if post is None or not post.local or post.deleted or post.share_of_id is not None:
        raise Ignored("the object is not a local post")
    if post.visibility == "local":
        raise Ignored("a local-only post does not federate")
    ref = await posts_sql.get_post_ref(incoming.conn, post_id=post.id, viewer_id=incoming.actor.id)
    if ref is None or not ref.visible:
        raise Ignored("the object is not a local post")
    return post


async def apply_like(incoming: Incoming) -> None:
    conn, actor = incoming.conn, incoming.actor
    post = await _local_post(incoming)
    if not post.allow_likes:
        raise Ignored("the author does not accept likes on this post")
    added = await post_writes.add_like(conn, account_id=actor.id, post_id=post.id)
    await inbox_sql.set_like_ap_id(
        conn, account_id=actor.id, post_id=post.id, ap_id=incoming.activity.ap_id
    )
    if added:
        await incoming.emit("post.liked", {"post_id": post.id, "account_id": actor.id})


async def apply_announce(incoming: Incoming) -> None:
    conn, actor = incoming.conn, incoming.actor
    post = await _local_post(incoming)
    if post.visibility not in SHAREABLE:
        raise Ignored("a followers-only, direct or local-only post cannot be shared")
    share_id = await inbox_sql.insert_remote_share(
        conn,
        account_id=actor.id,
        share_of_id=post.id,
        visibility=post.visibility,
        ap_id=incoming.activity.ap_id,
    )
    if share_id is None:
        return
    await post_writes.change_shares_count(conn, post_id=post.id, delta=1)
    await incoming.emit("post.created", {"post_id": share_id})


async def apply_delete(incoming: Incoming) -> None:
    conn, actor = incoming.conn, incoming.actor
    object_id = id_of(incoming.raw.get("object"))
    if object_id == actor.ap_id:
        await accounts_sql.mark_deleted(conn, account_id=actor.id)
        await incoming.emit("account.deleted", {"account_id": actor.id})
        return
    post = await inbox_sql.find_post(conn, ap_id=object_id) if object_id else None
    if post is None or post.local or post.account_id != actor.id:
        raise Ignored("the object is not a post of the actor")
    if not await post_writes.mark_deleted(conn, post_id=post.id):
        return  # a tombstone already
    if post.share_of_id is None:
        await post_writes.change_posts_count(conn, account_id=actor.id, delta=-1)
    else:
        await post_writes.change_shares_count(conn, post_id=post.share_of_id, delta=-1)
    await incoming.emit("post.deleted", {"post_id": post.id})


APPLIERS: dict[str, Callable[[Incoming], Awaitable[None]]] = {
    "Follow": apply_follow,
    "Create": apply_create,
    "Like": apply_like,
    "Announce": apply_announce,
    "Delete": apply_delete,
}
