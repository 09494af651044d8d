"""Telling other servers what local accounts do: Like, Follow, Block and their Undo,
Update(Person) after a profile change, Delete(Person) when an account goes.

Outbox handlers like those of stgy.domain.remote.outgoing. Activity ids name the event that
caused them (`…#likes/{event id}`), so liking, unliking and liking again sends three
distinct activities that a receiver deduplicating by id does not drop; the id is kept
on the row (likes, follows, blocks) so the Undo can embed the very activity it undoes.
"""

from __future__ import annotations

from typing import Any

from federation import activities, vocab
from stgy.domain.jobs import outbox
from stgy.domain.remote.activitypub import person
from stgy.domain.remote.outgoing import send
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import activitypub as ap_sql
from storage import deliveries as deliveries_sql
from storage import inbox as inbox_sql
from storage.accounts import Account
from storage.db import Conn
from storage.outbox import OutboxEvent


async def _local_and_remote(
    conn: Conn, services: Services, local_id: int, remote_id: int
) -> tuple[Account, Account] | None:
    """Both accounts, when federation is on, the first is local and the second remote."""
    if not services.config.federation.enabled:
        return None
    found = await accounts_sql.get_accounts(conn, account_ids=[local_id, remote_id])
    local, remote = found.get(local_id), found.get(remote_id)
    if local is None or remote is None or not local.is_local or remote.is_local:
        return None
    return local, remote


async def _send_to(
    conn: Conn, services: Services, sender: Account, other: Account, activity: dict[str, Any]
) -> None:
    """To the other account's own inbox (Follow, Block and their Undo are meant for it)."""
    inbox = await deliveries_sql.personal_inbox(conn, account_id=other.id)
    inboxes = [inbox] if inbox else []
    await send(conn, sender_id=sender.id, activity=activity, inboxes=inboxes)


# --- likes ----------------------------------------------------------------------------


async def _liked_remote_post(
    conn: Conn, services: Services, event: OutboxEvent
) -> tuple[Account, str, str] | None:
    """The local liker, the remote post's id and its author's id, for a federating like."""
    post_id, liker_id = int(event.payload["post_id"]), int(event.payload["account_id"])
    post = (await ap_sql.post_objects(conn, post_ids=[post_id])).get(post_id)
    if post is None or post.local:
        return None
    pair = await _local_and_remote(conn, services, liker_id, post.account.id)
    if pair is None:
        return None
    return pair[0], post.ap_id, post.account.ap_id


@outbox.handles("post.liked")
async def deliver_like(conn: Conn, event: OutboxEvent, services: Services) -> None:
    found = await _liked_remote_post(conn, services, event)
    if found is None:
        return
    liker, object_id, author = found
    activity_id = f"{liker.ap_id}#likes/{event.id}"
    post_id = int(event.payload["post_id"])
    await inbox_sql.set_like_ap_id(conn, account_id=liker.id, post_id=post_id, ap_id=activity_id)
    activity = activities.like(activity_id, liker.ap_id, object_id, author)
    inboxes = await deliveries_sql.inboxes_of(conn, ap_ids=[author])
    await send(conn, sender_id=liker.id, activity=activity, inboxes=inboxes)


@outbox.handles("post.unliked")
async def deliver_unlike(conn: Conn, event: OutboxEvent, services: Services) -> None:
    found = await _liked_remote_post(conn, services, event)
    if found is None:
        return
    liker, object_id, author = found
    activity_id = event.payload.get("like_ap_id") or f"{liker.ap_id}#likes/{event.id}"
    liked = activities.like(activity_id, liker.ap_id, object_id, author)
    activity = activities.undo(liker.ap_id, liked, [author])
    inboxes = await deliveries_sql.inboxes_of(conn, ap_ids=[author])
    await send(conn, sender_id=liker.id, activity=activity, inboxes=inboxes)


# --- follows --------------------------------------------------------------------------


@outbox.handles("follow.requested")
async def deliver_follow(conn: Conn, event: OutboxEvent, services: Services) -> None:
    pair = await _local_and_remote(
        conn, services, int(event.payload["follower_id"]), int(event.payload["followee_id"])
    )
    if pair is None:
        return
    follower, followee = pair
    activity_id = f"{follower.ap_id}#follows/{event.id}"
    await inbox_sql.set_follow_ap_id(
        conn, follower_id=follower.id, followee_id=followee.id, ap_id=activity_id
    )
    activity = activities.follow(activity_id, follower.ap_id, followee.ap_id)
    await _send_to(conn, services, follower, followee, activity)


@outbox.handles("follow.removed")
async def deliver_unfollow(conn: Conn, event: OutboxEvent, services: Services) -> None:
    # Not when the followee ended it (their Reject, or their Undo of our follow's Accept).
    if event.payload.get("by_remote"):
        return
    pair = await _local_and_remote(
        conn, services, int(event.payload["follower_id"]), int(event.payload["followee_id"])
    )
    if pair is None:
        return
    follower, followee = pair
    activity_id = event.payload.get("ap_id") or f"{follower.ap_id}#follows/{event.id}"
    followed = activities.follow(activity_id, follower.ap_id, followee.ap_id)
    activity = activities.undo(follower.ap_id, followed, [followee.ap_id])
    await _send_to(conn, services, follower, followee, activity)


# --- blocks ---------------------------------------------------------------------------


@outbox.handles("account.blocked")
async def deliver_block(conn: Conn, event: OutboxEvent, services: Services) -> None:
    pair = await _local_and_remote(
        conn, services, int(event.payload["account_id"]), int(event.payload["target_id"])
    )
    if pair is None:
        return
    blocker, target = pair
    activity_id = f"{blocker.ap_id}#blocks/{event.id}"
    await deliveries_sql.set_block_ap_id(
        conn, account_id=blocker.id, target_id=target.id, ap_id=activity_id
    )
    activity = activities.block(activity_id, blocker.ap_id, target.ap_id)
    await _send_to(conn, services, blocker, target, activity)


@outbox.handles("account.unblocked")
async def deliver_unblock(conn: Conn, event: OutboxEvent, services: Services) -> None:
    pair = await _local_and_remote(
        conn, services, int(event.payload["account_id"]), int(event.payload["target_id"])
    )
    if pair is None:
        return
    blocker, target = pair
    activity_id = event.payload.get("block_ap_id") or f"{blocker.ap_id}#blocks/{event.id}"
    blocked = activities.block(activity_id, blocker.ap_id, target.ap_id)
    activity = activities.undo(blocker.ap_id, blocked, [target.ap_id])
    await _send_to(conn, services, blocker, target, activity)


# --- the account itself ---------------------------------------------------------------


@outbox.handles("account.updated")
async def deliver_profile(conn: Conn, event: OutboxEvent, services: Services) -> None:
    if not services.config.federation.enabled:
        return
    account = await accounts_sql.get_account(conn, account_id=int(event.payload["account_id"]))
    if account is None or not account.is_local or not account.active:
        return
    actor = await ap_sql.find_local_actor(conn, handle=account.handle)
    if actor is None or not actor.approved:
        return
    activity = activities.update_actor(vocab.render_person(person(actor)), event.id)
    inboxes = await deliveries_sql.follower_inboxes(conn, account_id=account.id)
    await send(conn, sender_id=account.id, activity=activity, inboxes=inboxes)


# First: the follows it reads are what the deletion's other handlers remove.
@outbox.handles("account.deleted", first=True)
async def deliver_account_deleted(conn: Conn, event: OutboxEvent, services: Services) -> None:
    if not services.config.federation.enabled:
        return
    account = await accounts_sql.get_account(conn, account_id=int(event.payload["account_id"]))
    if account is None or not account.is_local:
        return
    inboxes = set(await deliveries_sql.follower_inboxes(conn, account_id=account.id))
    inboxes.update(await deliveries_sql.following_inboxes(conn, account_id=account.id))
    activity = activities.delete_actor(account.ap_id)
    await send(conn, sender_id=account.id, activity=activity, inboxes=inboxes)
