"""Follow, block and mute accounts, and the Relationship entity that each answers with;
follow requests, blocks and mutes as lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Blueprint, Response, jsonify

from stgy.domain import follows, relations
from stgy.domain.errors import Invalid
from stgy.domain.follows import AccountPage
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity
from stgy.mastodon.pagination import page_request, paginated
from stgy.mastodon.params import id_param, list_param, read_params
from stgy.services import Services
from storage.relations import Relationship

bp = Blueprint("mastodon_relationships", __name__, url_prefix="/api/v1")

MAX_RELATIONSHIPS = 40


def relationship_entity(target_id: int, found: Relationship) -> dict[str, object]:
    """The Relationship entity. `showing_reblogs` and `notifying` are what a follow
    always does here (shares are shown; no per-follow notifications), `blocked_by` is
    not told (as Mastodon hides it too unless the block is known)."""
    following = found.following == "accepted"
    return {
        "id": str(target_id),
        "following": following,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "followed_by": found.followed_by,
        "blocking": found.blocking,
        "blocked_by": False,
        "muting": found.muting,
        "muting_notifications": found.muting,
        "muting_expires_at": None,
        "requested": found.following == "pending",
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


async def _relationship(target_id: int) -> Response:
    found = await relations.relationship(services(), current_viewer().account_id, target_id)
    return jsonify(relationship_entity(target_id, found))


async def _act(action: Callable[[Services, int, int], Awaitable[object]], raw_id: str) -> Response:
    target_id = id_param(raw_id, "id")
    await action(services(), current_viewer().account_id, target_id)
    return await _relationship(target_id)


@bp.post("/accounts/<account_id>/follow", strict_slashes=False)
@scoped("write:follows", "follow")
async def follow(account_id: str) -> Response:
    # `reblogs` and `notify` are accepted and ignored: shares are always shown and there
    # are no per-follow notifications yet (docs/mastodon-api.md).
    await read_params()
    return await _act(follows.follow, account_id)


@bp.post("/accounts/<account_id>/unfollow", strict_slashes=False)
@scoped("write:follows", "follow")
async def unfollow(account_id: str) -> Response:
    return await _act(follows.unfollow, account_id)


@bp.post("/accounts/<account_id>/block", strict_slashes=False)
@scoped("write:blocks", "follow")
async def block(account_id: str) -> Response:
    return await _act(relations.block, account_id)


@bp.post("/accounts/<account_id>/unblock", strict_slashes=False)
@scoped("write:blocks", "follow")
async def unblock(account_id: str) -> Response:
    return await _act(relations.unblock, account_id)


@bp.post("/accounts/<account_id>/mute", strict_slashes=False)
@scoped("write:mutes", "follow")
async def mute(account_id: str) -> Response:
    return await _act(relations.mute, account_id)


@bp.post("/accounts/<account_id>/unmute", strict_slashes=False)
@scoped("write:mutes", "follow")
async def unmute(account_id: str) -> Response:
    return await _act(relations.unmute, account_id)


@bp.get("/accounts/relationships", strict_slashes=False)
@scoped("read:follows", "follow")
async def relationships() -> Response:
    ids = list_param(await read_params(), "id")
    if len(ids) > MAX_RELATIONSHIPS:
        raise Invalid("id", f"at most {MAX_RELATIONSHIPS} ids")
    viewer_id = current_viewer().account_id
    found = []
    for raw in ids:
        target_id = id_param(raw, "id")
        relation = await relations.relationship(services(), viewer_id, target_id)
        found.append(relationship_entity(target_id, relation))
    return jsonify(found)


async def _listed(lister: Callable[..., Awaitable[AccountPage]], account_id: int) -> Response:
    """Accounts paged by their ids (the lists' keys): the Link header as for statuses."""
    page = page_request(await read_params(), default=40, maximum=80)
    found = await lister(
        services(),
        account_id,
        until=page.until,
        since=page.since,
        limit=page.limit,
        ascending=page.ascending,
    )
    base = config().instance.base_url
    return paginated(
        [account_entity(a, base, None) for a in found.accounts],
        [a.id for a in found.accounts],
        page,
    )


@bp.get("/accounts/<account_id>/followers", strict_slashes=False)
async def followers(account_id: str) -> Response:
    return await _listed(follows.followers, id_param(account_id, "id"))


@bp.get("/accounts/<account_id>/following", strict_slashes=False)
async def following(account_id: str) -> Response:
    return await _listed(follows.following, id_param(account_id, "id"))


@bp.get("/follow_requests", strict_slashes=False)
@scoped("read:follows", "follow")
async def follow_requests() -> Response:
    return await _listed(follows.requests, current_viewer().account_id)


@bp.post("/follow_requests/<account_id>/authorize", strict_slashes=False)
@scoped("write:follows", "follow")
async def authorize(account_id: str) -> Response:
    follower_id = id_param(account_id, "id")
    await follows.accept_request(services(), current_viewer().account_id, follower_id)
    return await _relationship(follower_id)


@bp.post("/follow_requests/<account_id>/reject", strict_slashes=False)
@scoped("write:follows", "follow")
async def reject(account_id: str) -> Response:
    follower_id = id_param(account_id, "id")
    await follows.reject_request(services(), current_viewer().account_id, follower_id)
    return await _relationship(follower_id)


@bp.get("/blocks", strict_slashes=False)
@scoped("read:blocks", "follow")
async def blocks() -> Response:
    return await _listed(relations.blocked, current_viewer().account_id)


@bp.get("/mutes", strict_slashes=False)
@scoped("read:mutes", "follow")
async def mutes() -> Response:
    return await _listed(relations.muted, current_viewer().account_id)
