"""Native API: follow and unfollow, follow requests, following/followers, blocks and mutes."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.account_refs import account_id_of
from stgy.api.serializers import account_json
from stgy.domain import follows, relations
from stgy.domain.follows import AccountPage
from stgy.http.context import require_viewer, services
from stgy.http.validation import parse_cursor, query, responds

bp = Blueprint("follows", __name__, url_prefix="/api")


def _page_json(page: AccountPage) -> Response:
    return jsonify(
        {
            "accounts": [account_json(account) for account in page.accounts],
            "next": str(page.next) if page.next is not None else None,
        }
    )


@bp.put("/accounts/<account_id>/follow")
@responds(None, 204)
@responds(schemas.FollowResult, 202)
@schemas.fails_with(400, 401, 403, 404)
async def follow(account_id: str) -> tuple[Response | str, int]:
    """Follow: 204 when following now, 202 `{"state": "pending"}` while awaiting approval."""
    viewer = await require_viewer()
    state = await follows.follow(services(), viewer.account_id, await account_id_of(account_id))
    if state == follows.PENDING:
        return jsonify({"state": state}), 202
    return "", 204


@bp.delete("/accounts/<account_id>/follow")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def unfollow(account_id: str) -> tuple[str, int]:
    """Unfollow, or withdraw a pending request."""
    viewer = await require_viewer()
    await follows.unfollow(services(), viewer.account_id, await account_id_of(account_id))
    return "", 204


@bp.get("/accounts/<account_id>/following")
@query(schemas.AccountPageQuery)
@responds(schemas.AccountList)
@schemas.fails_with(400, 404)
async def following(account_id: str, query: schemas.AccountPageQuery) -> Response:
    page = await follows.following(
        services(),
        await account_id_of(account_id),
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return _page_json(page)


@bp.get("/accounts/<account_id>/followers")
@query(schemas.AccountPageQuery)
@responds(schemas.AccountList)
@schemas.fails_with(400, 404)
async def followers(account_id: str, query: schemas.AccountPageQuery) -> Response:
    page = await follows.followers(
        services(),
        await account_id_of(account_id),
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return _page_json(page)


@bp.get("/follow_requests")
@query(schemas.AccountPageQuery)
@responds(schemas.AccountList)
@schemas.fails_with(400, 401)
async def follow_requests(query: schemas.AccountPageQuery) -> Response:
    """Accounts waiting for my approval."""
    viewer = await require_viewer()
    page = await follows.requests(
        services(),
        viewer.account_id,
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return _page_json(page)


@bp.post("/follow_requests/<account_id>/accept")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def accept_request(account_id: str) -> tuple[str, int]:
    viewer = await require_viewer()
    follower_id = await account_id_of(account_id, "follow request")
    await follows.accept_request(services(), viewer.account_id, follower_id)
    return "", 204


@bp.post("/follow_requests/<account_id>/reject")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def reject_request(account_id: str) -> tuple[str, int]:
    viewer = await require_viewer()
    follower_id = await account_id_of(account_id, "follow request")
    await follows.reject_request(services(), viewer.account_id, follower_id)
    return "", 204


@bp.put("/accounts/<account_id>/block")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def block(account_id: str) -> tuple[str, int]:
    """Block: follows both ways end, and neither sees the other's posts."""
    viewer = await require_viewer()
    await relations.block(services(), viewer.account_id, await account_id_of(account_id))
    return "", 204


@bp.delete("/accounts/<account_id>/block")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def unblock(account_id: str) -> tuple[str, int]:
    viewer = await require_viewer()
    await relations.unblock(services(), viewer.account_id, await account_id_of(account_id))
    return "", 204


@bp.put("/accounts/<account_id>/mute")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def mute(account_id: str) -> tuple[str, int]:
    """Mute: the account's posts and shares leave my home timeline (not its profile)."""
    viewer = await require_viewer()
    await relations.mute(services(), viewer.account_id, await account_id_of(account_id))
    return "", 204


@bp.delete("/accounts/<account_id>/mute")
@responds(None, 204)
@schemas.fails_with(400, 401, 404)
async def unmute(account_id: str) -> tuple[str, int]:
    viewer = await require_viewer()
    await relations.unmute(services(), viewer.account_id, await account_id_of(account_id))
    return "", 204


@bp.get("/blocks")
@query(schemas.AccountPageQuery)
@responds(schemas.AccountList)
@schemas.fails_with(400, 401)
async def blocks(query: schemas.AccountPageQuery) -> Response:
    viewer = await require_viewer()
    page = await relations.blocked(
        services(),
        viewer.account_id,
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return _page_json(page)


@bp.get("/mutes")
@query(schemas.AccountPageQuery)
@responds(schemas.AccountList)
@schemas.fails_with(400, 401)
async def mutes(query: schemas.AccountPageQuery) -> Response:
    viewer = await require_viewer()
    page = await relations.muted(
        services(),
        viewer.account_id,
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return _page_json(page)
