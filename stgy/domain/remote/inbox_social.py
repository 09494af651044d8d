"""Incoming activities beyond those of stgy.domain.remote.inbox_apply: Accept and Reject of our
Follows, Update of a Note or of the actor, Undo of Like/Announce/Block, Block, Move and
Flag. Same rules: run in the `inbox.received` event's transaction, idempotent, and a
refusal is an `Ignored` with its reason kept on the activity's row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from federation import fetch
from federation.values import as_list, id_of, text_of
from stgy.domain import domain_blocks, follows
from stgy.domain.remote.inbox_apply import APPLIERS as POST_APPLIERS
from stgy.domain.remote.inbox_apply import Ignored, Incoming, undo_follow
from stgy.domain.remote.remote_keys import actor_row, host_of, tags_url
from stgy.domain.remote.remote_posts import note_content, note_tags
from storage import follows as follows_sql
from storage import inbox as inbox_sql
from storage import inbox_social as social_sql
from storage import post_writes
from storage import relations as relations_sql
from storage import remote_accounts as remote_sql
from storage import reports as reports_sql
from storage.inbox_social import FollowRow

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
NOTE_TYPES = frozenset({"Note", "Article", "Question", "Page"})
MAX_REPORT_COMMENT = 5000


# --- answers to our follows -----------------------------------------------------------


async def _our_follow(incoming: Incoming) -> FollowRow:
    """The follow of a local account that the Accept/Reject's object names, which must be
    a follow of the answering actor."""
    conn, actor = incoming.conn, incoming.actor
    obj = incoming.raw.get("object")
    found: FollowRow | None = None
    object_id = id_of(obj)
    if object_id is not None:
        found = await social_sql.follow_by_ap_id(conn, ap_id=object_id)
    if found is None and isinstance(obj, dict):
        # Some servers answer with the Follow embedded, and an id of their own making.
        follower_ap_id = id_of(obj.get("actor"))
        if id_of(obj.get("object")) == actor.ap_id and follower_ap_id is not None:
            follower = await remote_sql.find_by_ap_id(conn, ap_id=follower_ap_id)
            if follower is not None and follower.is_local:
                found = await social_sql.follow_of(
                    conn, follower_id=follower.id, followee_id=actor.id
                )
    if found is None or found.followee_id != actor.id:
        raise Ignored("no follow of the actor by a local account matches")
    return found


async def apply_accept(incoming: Incoming) -> None:
    follow = await _our_follow(incoming)
    if follow.state != follows.PENDING:
        return  # accepted before
    if await follows_sql.accept_follow(
        incoming.conn, follower_id=follow.follower_id, followee_id=follow.followee_id
    ):
        payload = {"follower_id": follow.follower_id, "followee_id": follow.followee_id}
        await incoming.emit("follow.accepted", payload)


async def _end_follow(incoming: Incoming, follower_id: int, followee_id: int) -> None:
    state = await follows_sql.delete_follow(
        incoming.conn, follower_id=follower_id, followee_id=followee_id
    )
    if state is not None:
        payload = {
            "follower_id": follower_id,
            "followee_id": followee_id,
            "state": state,
            "by_remote": True,
        }
        await incoming.emit("follow.removed", payload)


async def apply_reject(incoming: Incoming) -> None:
    follow = await _our_follow(incoming)
    await _end_follow(incoming, follow.follower_id, follow.followee_id)


# --- blocks ---------------------------------------------------------------------------


async def apply_block(incoming: Incoming) -> None:
    conn, actor = incoming.conn, incoming.actor
    target = await remote_sql.find_by_ap_id(conn, ap_id=id_of(incoming.raw.get("object")) or "")
    if target is None or not target.is_local:
        raise Ignored("the object is not a local account")
    await relations_sql.insert_block(conn, account_id=actor.id, target_id=target.id)
    await _end_follow(incoming, actor.id, target.id)
    await _end_follow(incoming, target.id, actor.id)


# --- undo -----------------------------------------------------------------------------


async def _undo_like(incoming: Incoming, obj: Any) -> None:
    conn, actor = incoming.conn, incoming.actor
    post_id = await social_sql.like_by_ap_id(conn, account_id=actor.id, ap_id=id_of(obj) or "")
    if post_id is None and isinstance(obj, dict):
        target = await inbox_sql.find_post(conn, ap_id=id_of(obj.get("object")) or "")
        post_id = target.id if target is not None else None
    if post_id is None:
        raise Ignored("no such like")
    if await post_writes.remove_like(conn, account_id=actor.id, post_id=post_id):
        await incoming.emit("post.unliked", {"post_id": post_id, "account_id": actor.id})


async def _undo_announce(incoming: Incoming, obj: Any) -> None:
    conn, actor = incoming.conn, incoming.actor
    share = await inbox_sql.find_post(conn, ap_id=id_of(obj) or "")
    if share is None or share.account_id != actor.id or share.share_of_id is None:
        raise Ignored("no such share")
    if await post_writes.mark_deleted(conn, post_id=share.id):
        await post_writes.change_shares_count(conn, post_id=share.share_of_id, delta=-1)
        await incoming.emit("post.deleted", {"post_id": share.id})


async def _undo_block(incoming: Incoming, obj: Any) -> None:
    conn, actor = incoming.conn, incoming.actor
    target_ap_id = id_of(obj.get("object")) if isinstance(obj, dict) else None
    target = await remote_sql.find_by_ap_id(conn, ap_id=target_ap_id) if target_ap_id else None
    if target is None or not target.is_local:
        raise Ignored("the Block undone is not of a local account")
    await relations_sql.delete_block(conn, account_id=actor.id, target_id=target.id)


async def apply_undo(incoming: Incoming) -> None:
    obj = incoming.raw.get("object")
    kind = obj.get("type") if isinstance(obj, dict) else None
    if isinstance(obj, dict) and id_of(obj.get("actor")) not in (None, incoming.actor.ap_id):
        raise Ignored("the activity undone is not the actor's")
    if kind == "Like":
        await _undo_like(incoming, obj)
    elif kind == "Announce":
        await _undo_announce(incoming, obj)
    elif kind == "Block":
        await _undo_block(incoming, obj)
    elif kind == "Follow":
        await undo_follow(incoming, obj)
    elif kind is None and isinstance(obj, str):
        # By id only: whichever of the actor's activities has it.
        if await social_sql.like_by_ap_id(incoming.conn, account_id=incoming.actor.id, ap_id=obj):
            await _undo_like(incoming, obj)
        elif (found := await inbox_sql.find_post(incoming.conn, ap_id=obj)) is not None and (
            found.share_of_id is not None
        ):
            await _undo_announce(incoming, obj)
        else:
            await undo_follow(incoming, obj)
    else:
        raise Ignored(f"undoing {kind or 'this object'} is not supported")


# --- updates --------------------------------------------------------------------------


async def _update_note(incoming: Incoming, note: dict[str, Any]) -> None:
    conn, actor = incoming.conn, incoming.actor
    post = await inbox_sql.find_post(conn, ap_id=id_of(note) or "")
    if post is None or post.local or post.account_id != actor.id or post.deleted:
        raise Ignored("the object is not a post of the actor")
    content = note_content(note)
    await social_sql.update_remote_post(
        conn,
        post_id=post.id,
        html=content.html,
        source=content.text,
        summary=content.summary,
        sensitive=content.sensitive,
        language=content.language,
    )
    await post_writes.set_tags(conn, post_id=post.id, tags=note_tags(note))
    await incoming.emit("post.updated", {"post_id": post.id})


async def _update_actor(incoming: Incoming, document: dict[str, Any]) -> None:
    actor = incoming.actor
    try:
        parsed = fetch.parse_actor(document)
    except fetch.FetchError as exc:
        raise Ignored(f"not a usable actor: {exc.reason}") from None
    host = host_of(parsed.id)
    if parsed.id != actor.ap_id or host is None:
        raise Ignored("an actor updates only itself")
    row = actor_row(parsed, host, tags_url(incoming.services))
    await remote_sql.upsert_remote_account(incoming.conn, row)
    await incoming.emit("account.updated", {"account_id": actor.id})


async def apply_update(incoming: Incoming) -> None:
    obj = incoming.raw.get("object")
    if not isinstance(obj, dict):
        raise Ignored("an Update must embed the object")
    if obj.get("type") in NOTE_TYPES:
        await _update_note(incoming, obj)
    elif obj.get("type") in ACTOR_TYPES:
        await _update_actor(incoming, obj)
    else:
        raise Ignored(f"updating {obj.get('type')!r} is not supported")


# --- moves and reports ----------------------------------------------------------------


async def apply_move(incoming: Incoming) -> None:
    """Recorded on the account (where it went); follows are not moved."""
    conn, actor = incoming.conn, incoming.actor
    if id_of(incoming.raw.get("object")) != actor.ap_id:
        raise Ignored("an actor moves only itself")
    target_ap_id = id_of(incoming.raw.get("target"))
    if target_ap_id is None or host_of(target_ap_id) is None:
        raise Ignored("a Move needs an http(s) target")
    target = await remote_sql.find_by_ap_id(conn, ap_id=target_ap_id)
    await social_sql.set_moved(
        conn,
        account_id=actor.id,
        moved_to_ap_id=target_ap_id,
        moved_to_id=target.id if target is not None else None,
    )


async def apply_flag(incoming: Incoming) -> None:
    """A report from another instance about a local account (and some of its posts);
    dropped when the admins block the sender's domain with `reject_reports`."""
    conn = incoming.conn
    if (await domain_blocks.policy(conn, incoming.actor.domain)).reject_reports:
        raise Ignored("reports from this domain are rejected (domain block)")
    ids = [i for i in (id_of(v) for v in as_list(incoming.raw.get("object"))) if i is not None]
    local_ids = await remote_sql.local_ids_by_ap_ids(conn, ap_ids=ids)
    posts = await social_sql.local_posts_by_ap_ids(conn, ap_ids=ids)
    targets = local_ids or [author for _, author in posts]
    if not targets:
        raise Ignored("the report names no local account or post")
    target = targets[0]
    post_ids = [post for post, author in posts if author == target]
    report_id = await social_sql.insert_report(
        conn,
        ap_id=incoming.activity.ap_id,
        reporter_id=incoming.actor.id,
        target_account_id=target,
        post_ids=post_ids,
        comment=text_of(incoming.raw.get("content"))[:MAX_REPORT_COMMENT],
    )
    if report_id is not None:  # the posts as they are now, as for our own reports
        await reports_sql.snapshot_posts(conn, report_id=report_id, post_ids=post_ids)


APPLIERS: dict[str, Callable[[Incoming], Awaitable[None]]] = {
    **POST_APPLIERS,
    "Accept": apply_accept,
    "Reject": apply_reject,
    "Block": apply_block,
    "Undo": apply_undo,
    "Update": apply_update,
    "Move": apply_move,
    "Flag": apply_flag,
}
