"""Answering remote follows of local accounts: `Accept` when accepted, `Reject` when refused.

The handlers run inside the event's transaction and cannot enqueue after it commits,
so they enqueue the delivery right there. That is safe because the delivery job reads
nothing this transaction writes: it gets the sender's id, the inbox and the rendered
body as arguments (see stgy.domain.remote.delivery). Should the transaction roll back, the
event is applied again and the job key makes the second enqueue a no-op while the
first job waits; a follower told of an accept that did not stick sends its Follow again.
"""

from __future__ import annotations

from typing import Any

import orjson

from federation.jsonld import AS_CONTEXT
from stgy.domain.jobs import outbox
from stgy.domain.remote.delivery import enqueue_deliveries
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import deliveries as deliveries_sql
from storage.accounts import Account
from storage.db import Conn
from storage.outbox import OutboxEvent


def follow_reply(
    kind: str, follower: Account, followee: Account, follow_ap_id: str | None, event_id: int
) -> dict[str, Any]:
    """An Accept or Reject of `follower`'s Follow of `followee`, naming the Follow by its id
    when we remembered it, else embedding it (which Mastodon matches by actor and object).
    The id names the event, so the answer to a later Follow is not taken for a replay."""
    follow: str | dict[str, Any] = follow_ap_id or {
        "type": "Follow",
        "actor": follower.ap_id,
        "object": followee.ap_id,
    }
    fragment = "accepts" if kind == "Accept" else "rejects"
    return {
        "@context": AS_CONTEXT,
        "id": f"{followee.ap_id}#{fragment}/follows/{follower.id}/{event_id}",
        "type": kind,
        "actor": followee.ap_id,
        "object": follow,
    }


async def _reply(
    conn: Conn, services: Services, kind: str, event: OutboxEvent, follow_ap_id: str | None
) -> None:
    payload = event.payload
    if not services.config.federation.enabled:
        return
    accounts = await accounts_sql.get_accounts(
        conn, account_ids=[int(payload["follower_id"]), int(payload["followee_id"])]
    )
    follower = accounts.get(int(payload["follower_id"]))
    followee = accounts.get(int(payload["followee_id"]))
    if follower is None or followee is None or follower.is_local or not followee.is_local:
        return
    if follower.inbox_url is None:
        return
    activity = follow_reply(kind, follower, followee, follow_ap_id, event.id)
    await enqueue_deliveries(
        conn,
        sender_id=followee.id,
        inbox_urls=[follower.inbox_url],
        activity_id=activity["id"],
        body=orjson.dumps(activity),
    )


@outbox.handles("follow.accepted")
async def accept_remote_follow(conn: Conn, event: OutboxEvent, services: Services) -> None:
    follow_ap_id = await deliveries_sql.follow_ap_id(
        conn,
        follower_id=int(event.payload["follower_id"]),
        followee_id=int(event.payload["followee_id"]),
    )
    await _reply(conn, services, "Accept", event, follow_ap_id)


@outbox.handles("follow.removed")
async def reject_remote_follow(conn: Conn, event: OutboxEvent, services: Services) -> None:
    # Only a follow the followee's side refused (`rejected` is set by
    # follows.reject_request for a pending request, and by a moderator's suspension of
    # the follower for an accepted follow too): the follower's own Undo and other
    # removals record follow.removed without it. The follow row is gone, so the Follow
    # is embedded rather than named by its id.
    if not event.payload.get("rejected"):
        return
    await _reply(conn, services, "Reject", event, None)
