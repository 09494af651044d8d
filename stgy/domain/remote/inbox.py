"""The inbox: take signed activities in (check, store, answer 202) and apply them in a job.

Taking in: the claimed actor's instance must not be blocked, the HTTP signature must
verify with a key of that actor, the activity's id (and for Create/Update the object's
id and author) must be on the actor's host, and an activity id seen before is dropped.
The raw activity and an `inbox.received` event are written in one transaction. Before
any of that (and before any key is looked up or fetched) the activity must keep within
the bounds of `federation.limits` and the request must be addressed to this instance:
the Host the signature covers (`host`, or RFC 9421's `@authority`) must be our domain.

Applying (the `inbox.received` handler) runs in the event's transaction. Events it
causes (`follow.accepted`, `post.created`, ...) are recorded and applied right there,
with their handlers, so fan-out and notifications happen exactly once with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation import limits, signatures
from federation.httpsig import SignatureError, lowercase_headers, normalized_authority
from federation.values import id_of, ids_of, type_of
from stgy.config import InstanceConfig
from stgy.domain.errors import Forbidden, Invalid, OverLimit, Unauthorized
from stgy.domain.jobs import outbox
from stgy.domain.remote.authorized_fetch import claimed_key_id
from stgy.domain.remote.inbox_apply import Ignored, Incoming
from stgy.domain.remote.inbox_social import ACTOR_TYPES, APPLIERS, NOTE_TYPES
from stgy.domain.remote.remote_keys import SenderKeys, domains_of, host_of
from stgy.logs import quote
from stgy.services import Services
from storage import account_moderation as moderation_sql
from storage import inbox as inbox_sql
from storage import remote_accounts as remote_sql
from storage.db import Conn
from storage.inbox import InboxActivity
from storage.outbox import OutboxEvent

log = logging.getLogger("stgy.inbox")

# Types whose embedded object is authored by the actor (a Create of someone else's
# note is a forgery, whatever the signature).
AUTHORED_OBJECT_TYPES = ("Create", "Update")
# Types we act on: of a `type` list (AS2 allows one), the first of these is taken.
KNOWN_TYPES = frozenset(APPLIERS) | NOTE_TYPES | ACTOR_TYPES | {"Tombstone"}


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path_with_query: str
    headers: list[tuple[str, str]]
    body: bytes
    scheme: str


def parse_activity(body: bytes) -> Any:
    """A request body as JSON, parsed within the bounds of `federation.limits` (the same
    parser the job reads the stored activity with). OverLimit (400) past a bound,
    ValueError when it is not JSON."""
    try:
        return limits.parse_json(body)
    except limits.LimitExceeded as exc:
        raise OverLimit(exc.field, exc.reason, exc.limit) from None


def check_limits(activity: dict[str, Any]) -> None:
    """OverLimit (400) naming the first property of `activity` past a bound of
    `federation.limits`: an id or URL too long, too many recipients, tags or
    attachments, a text too long, nesting too deep."""
    try:
        limits.check_document(activity)
    except limits.LimitExceeded as exc:
        raise OverLimit(exc.field, exc.reason, exc.limit) from None


def check_signed_host(headers: dict[str, str], instance: InstanceConfig) -> None:
    """Unauthorized unless the request's Host is this instance's domain (with its port,
    when it has one). Both signature schemes must cover the Host (`host`, or RFC 9421's
    `@authority` or `@target-uri`, which are read from it), so a delivery signed for
    another server cannot be replayed here. A request without Host is left to the
    signature check, which refuses it."""
    host = headers.get("host")
    if host is None:
        return
    ours = normalized_authority(instance.scheme, instance.domain)
    if normalized_authority(instance.scheme, host) != ours:
        raise Unauthorized(f"the request is signed for {host!r}, not for this instance ({ours})")


def _required(activity: dict[str, Any], name: str) -> str:
    if name == "actor":
        value = id_of(activity.get(name))
    elif name == "type":
        value = type_of(activity.get(name), KNOWN_TYPES)
    else:
        value = activity.get(name)
    if not isinstance(value, str) or not value:
        raise Invalid(name, f"an activity needs {name!r}")
    return value


def _objects(activity: dict[str, Any]) -> list[Any]:
    """The activity's `object`: one, or each of a list of them (AS2 allows several)."""
    value = activity.get("object")
    if isinstance(value, list):
        if not value:
            raise Invalid("object", "an activity's object list must not be empty")
        return value
    return [value]


def _check_hosts(
    activity: dict[str, Any], activity_type: str, actor_host: str, id_host: str
) -> None:
    if id_host != actor_host:
        raise Forbidden("activity id spoofs another host")
    if activity_type not in AUTHORED_OBJECT_TYPES:
        return
    for obj in _objects(activity):
        object_id = id_of(obj)
        if object_id is None:
            raise Invalid("object", f"the object of a {activity_type} needs an id")
        if host_of(object_id) != actor_host:
            raise Forbidden("object id spoofs another host")
        authors = ids_of(obj.get("attributedTo")) if isinstance(obj, dict) else []
        if any(host_of(author) != actor_host for author in authors):
            raise Forbidden("object author is on another host")


async def receive(
    services: Services, activity: dict[str, Any], request: SignedRequest, *, now: datetime
) -> bool:
    """Check and store an incoming activity; True when stored, False when a duplicate.

    Raises OverLimit or Invalid (400), Forbidden (403) or Unauthorized (401) when refused.
    """
    check_limits(activity)
    activity_id = _required(activity, "id")
    activity_type = _required(activity, "type")
    actor_id = _required(activity, "actor")
    actor_host = host_of(actor_id)
    id_host = host_of(activity_id)
    if actor_host is None or id_host is None:
        raise Invalid("actor", "actor and id must be http(s) URLs")
    lowered = lowercase_headers(request.headers)
    check_signed_host(lowered, services.config.instance)
    sender = await SenderKeys.look_up(
        services, actor_host, claimed_key_id(lowered), actor_id=actor_id
    )
    if sender.blocked:
        raise Forbidden("this instance is blocked")
    try:
        verified = await signatures.verify_request(
            request.method,
            request.path_with_query,
            lowered,
            request.body,
            sender.resolve,
            now=now,
            scheme=request.scheme,
        )
    except SignatureError as exc:
        raise Unauthorized(exc.reason) from None
    owner = await sender.owner(verified.key_id)
    if owner is None or owner.ap_id != actor_id:
        raise Unauthorized("the signing key does not belong to the activity's actor")
    _check_hosts(activity, activity_type, actor_host, id_host)
    async with services.pool.acquire() as conn:
        # A remote account suspended by our moderators is not heard (docs/moderation.md).
        if await moderation_sql.is_suspended(conn, account_id=owner.account_id):
            raise Forbidden("this account is suspended")
        # Block check, activity and its event in one statement: atomic, one round trip.
        # (A sender whose key was cached was not asked about blocks before.)
        taken = await inbox_sql.take_activity(
            conn,
            ap_id=activity_id,
            actor_id=actor_id,
            type=activity_type,
            raw_json=request.body.decode(),
            domains=domains_of(actor_host),
        )
    if taken.blocked:
        raise Forbidden("this instance is blocked")
    if taken.activity_id is None:
        return False
    # No enqueue here: a worker's relay enqueues the event on its NOTIFY (relay.py).
    log.debug(
        "inbox_received activity=%s type=%s id=%d",
        quote(activity_id),
        quote(activity_type),
        taken.activity_id,
    )
    return True


def _one_object(activity_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The activity as the appliers read it: an `object` list stands for its first object
    (a Flag keeps its list: it names an account and posts), and an object's `type` list
    for the first type we know."""
    obj = raw.get("object")
    if isinstance(obj, list) and activity_type != "Flag":
        obj = obj[0] if obj else None
    if isinstance(obj, dict) and isinstance(obj.get("type"), list):
        obj = {**obj, "type": type_of(obj["type"], KNOWN_TYPES)}
    if obj is raw.get("object"):
        return raw
    return {**raw, "object": obj}


def _stored_json(activity: InboxActivity) -> tuple[dict[str, Any] | None, str | None]:
    """The stored activity, read with the parser and bounds the request was taken with
    (one stored before a bound was set may pass it); else None and why."""
    try:
        raw = limits.parse_json(activity.raw_json)
        limits.check_document(raw)
    except limits.LimitExceeded as exc:
        return None, f"over a limit: {exc}"
    return (raw, None) if isinstance(raw, dict) else (None, "not a JSON object")


async def _ignore(incoming: Incoming) -> None:
    raise Ignored(f"unsupported activity type {incoming.activity.type!r}")


@outbox.handles("inbox.received")
async def apply_activity(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """Apply a stored activity once; unknown types and refusals are marked, not raised."""
    activity_id = int(event.payload["inbox_activity_id"])
    activity = await inbox_sql.get_activity(conn, activity_id=activity_id)
    if activity is None or activity.processed_at is not None:
        return
    raw, error = _stored_json(activity)
    actor = await remote_sql.find_by_ap_id(conn, ap_id=activity.actor_id)
    if raw is None:
        pass
    elif actor is None or actor.is_local or actor.deleted_at is not None:
        error = "the actor is not a known remote account"
    else:
        apply: Callable[[Incoming], Awaitable[None]] = APPLIERS.get(activity.type, _ignore)
        incoming = Incoming(conn, services, activity, actor, _one_object(activity.type, raw))
        try:
            await apply(incoming)
        except Ignored as exc:
            error = exc.reason
    await inbox_sql.mark_processed(conn, activity_id=activity_id, error=error)
    log.info(
        "inbox_applied activity=%s type=%s%s",
        quote(activity.ap_id),
        quote(activity.type),
        f" ignored={quote(error)}" if error else "",
    )
