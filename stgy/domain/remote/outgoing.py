"""Telling other servers about local posts: Create, Update and Delete of Notes, Announce
and its Undo, each sent once to every distinct inbox that should have it.

Outbox handlers, run in the event's transaction. They render the activity once and
enqueue one delivery job per inbox (a shared inbox standing for all its accounts);
the job gets the body as an argument, so enqueueing before commit is safe (see
stgy.domain.remote.delivery). Recipients: the author's accepted remote followers (not for
direct posts), the remote accounts mentioned, and the author of the post replied to
or shared. Local-only posts never leave; remote posts are never sent onward.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson

from federation import activities, vocab
from stgy.domain.jobs import outbox
from stgy.domain.remote.activitypub import announce_of, note
from stgy.domain.remote.delivery import enqueue_deliveries
from stgy.services import Services
from storage import activitypub as ap_sql
from storage import deliveries as deliveries_sql
from storage.activitypub import PostObject
from storage.db import Conn
from storage.outbox import OutboxEvent

log = logging.getLogger("stgy.delivery")


async def send(
    conn: Conn,
    *,
    sender_id: int,
    activity: dict[str, Any],
    inboxes: Iterable[str],
) -> int:
    """Record one delivery of `activity` per distinct inbox in the caller's transaction
    (sent after its commit); how many inboxes."""
    inbox_urls = sorted(set(inboxes))
    await enqueue_deliveries(
        conn,
        sender_id=sender_id,
        inbox_urls=inbox_urls,
        activity_id=activity["id"],
        body=orjson.dumps(activity),
    )
    log.info("delivery_fan_out activity=%s inboxes=%d", activity["id"], len(inbox_urls))
    return len(inbox_urls)


async def _federated_post(conn: Conn, services: Services, post_id: int) -> PostObject | None:
    """The local post of an event when it is one that federates; None otherwise."""
    if not services.config.federation.enabled:
        return None
    post = (await ap_sql.post_objects(conn, post_ids=[post_id])).get(post_id)
    if post is None or not post.local or post.visibility not in vocab.FEDERATED_VISIBILITIES:
        return None
    return post


async def post_inboxes(conn: Conn, post: PostObject) -> list[str]:
    """Every inbox a post (or a share) goes to."""
    others = [m.ap_id for m in post.mentions if m.domain is not None]
    if post.share_of is not None:
        others.append(post.share_of.author_ap_id)
    elif post.in_reply_to_ap_id is not None:
        parent_author = await deliveries_sql.author_ap_id_of_post(
            conn, post_ap_id=post.in_reply_to_ap_id
        )
        if parent_author is not None:
            others.append(parent_author)
    inboxes = set(await deliveries_sql.inboxes_of(conn, ap_ids=others))
    if post.visibility != "direct":
        inboxes.update(await deliveries_sql.follower_inboxes(conn, account_id=post.account.id))
    return sorted(inboxes)


def _addressing(services: Services, post: PostObject) -> tuple[list[str], list[str]]:
    rendered = vocab.note_object(note(services, post))
    return rendered["to"], rendered["cc"]


@outbox.handles("post.created")
async def deliver_created(conn: Conn, event: OutboxEvent, services: Services) -> None:
    post = await _federated_post(conn, services, int(event.payload["post_id"]))
    if post is None or post.deleted_at is not None:
        return
    if post.share_of is not None:
        if not post.share_of.live or post.share_of.visibility not in ("public", "unlisted"):
            return
        activity = vocab.render_announce(announce_of(post))
    else:
        activity = vocab.render_create(note(services, post))
    await send(
        conn,
        sender_id=post.account.id,
        activity=activity,
        inboxes=await post_inboxes(conn, post),
    )


@outbox.handles("post.updated")
async def deliver_updated(conn: Conn, event: OutboxEvent, services: Services) -> None:
    post = await _federated_post(conn, services, int(event.payload["post_id"]))
    if post is None or post.deleted_at is not None or post.share_of is not None:
        return
    activity = activities.update_note(
        note(services, post), post.edited_at or post.created_at, event.id
    )
    await send(
        conn,
        sender_id=post.account.id,
        activity=activity,
        inboxes=await post_inboxes(conn, post),
    )


@outbox.handles("post.deleted")
async def deliver_deleted(conn: Conn, event: OutboxEvent, services: Services) -> None:
    post = await _federated_post(conn, services, int(event.payload["post_id"]))
    if post is None:
        return
    actor = post.account.ap_id
    if post.share_of is not None:
        announce = vocab.announce_activity(announce_of(post))
        activity = activities.undo(actor, announce, announce["to"], announce["cc"])
    else:
        to, cc = _addressing(services, post)
        activity = activities.delete_object(actor, post.ap_id, to, cc, "Note")
    await send(
        conn,
        sender_id=post.account.id,
        activity=activity,
        inboxes=await post_inboxes(conn, post),
    )
