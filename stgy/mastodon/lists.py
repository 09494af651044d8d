"""/api/v1/lists (a person's lists and their members) and /api/v1/accounts/:id/lists.
The list timeline is in stgy/mastodon/timelines.py."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify

from stgy.domain import lists
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity
from stgy.mastodon.pagination import page_request, paginated
from stgy.mastodon.params import bool_param, id_param, list_param, read_params, text_param
from storage.lists import ListRow

bp = Blueprint("mastodon_lists", __name__, url_prefix="/api/v1")


def list_entity(row: ListRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": row.exclusive,
    }


def _account_ids(params: dict[str, Any]) -> list[int]:
    return [id_param(raw, "account_ids") for raw in list_param(params, "account_ids")]


@bp.get("/lists", strict_slashes=False)
@scoped("read:lists")
async def index() -> Response:
    """The person's lists, oldest first."""
    found = await lists.lists_of(services(), current_viewer().account_id)
    return jsonify([list_entity(row) for row in found])


@bp.post("/lists", strict_slashes=False)
@scoped("write:lists")
async def create() -> Response:
    """Create a list (`title`, `replies_policy`, `exclusive`)."""
    params = await read_params()
    made = await lists.create_list(
        services(),
        current_viewer().account_id,
        title=text_param(params, "title"),
        replies_policy=text_param(params, "replies_policy"),
        exclusive=bool_param(params, "exclusive", False),
    )
    return jsonify(list_entity(made))


@bp.get("/lists/<list_id>", strict_slashes=False)
@scoped("read:lists")
async def show(list_id: str) -> Response:
    """One of the person's lists."""
    found = await lists.get_list(services(), current_viewer().account_id, id_param(list_id, "id"))
    return jsonify(list_entity(found))


@bp.put("/lists/<list_id>", strict_slashes=False)
@scoped("write:lists")
async def update(list_id: str) -> Response:
    """Change what is given of a list."""
    params = await read_params()
    changed = await lists.update_list(
        services(),
        current_viewer().account_id,
        id_param(list_id, "id"),
        title=text_param(params, "title"),
        replies_policy=text_param(params, "replies_policy"),
        exclusive=bool_param(params, "exclusive"),
    )
    return jsonify(list_entity(changed))


@bp.delete("/lists/<list_id>", strict_slashes=False)
@scoped("write:lists")
async def delete(list_id: str) -> Response:
    """Delete a list."""
    await lists.delete_list(services(), current_viewer().account_id, id_param(list_id, "id"))
    return jsonify({})


@bp.get("/lists/<list_id>/accounts", strict_slashes=False)
@scoped("read:lists")
async def members(list_id: str) -> Response:
    """The list's members, newest account first (`limit=0`: all)."""
    params = await read_params()
    page = page_request(params, default=40, maximum=80)
    everyone = text_param(params, "limit") == "0"  # Mastodon: all of them, unpaged
    found = await lists.members(
        services(),
        current_viewer().account_id,
        id_param(list_id, "id"),
        since=page.since_id if page.since_id is not None else page.min_id,
        until=page.max_id,
        limit=None if everyone else page.limit,
    )
    base = config().instance.base_url
    shown = [account_entity(a, base, None) for a in found.accounts]
    if everyone:
        return jsonify(shown)
    return paginated(shown, found.ids, page)


@bp.post("/lists/<list_id>/accounts", strict_slashes=False)
@scoped("write:lists")
async def add_members(list_id: str) -> Response:
    """Add accounts the person follows (`account_ids[]`)."""
    params = await read_params()
    await lists.add_members(
        services(), current_viewer().account_id, id_param(list_id, "id"), _account_ids(params)
    )
    return jsonify({})


@bp.delete("/lists/<list_id>/accounts", strict_slashes=False)
@scoped("write:lists")
async def remove_members(list_id: str) -> Response:
    """Remove accounts (`account_ids[]`)."""
    params = await read_params()
    await lists.remove_members(
        services(), current_viewer().account_id, id_param(list_id, "id"), _account_ids(params)
    )
    return jsonify({})


@bp.get("/accounts/<account_id>/lists", strict_slashes=False)
@scoped("read:lists")
async def account_lists(account_id: str) -> Response:
    """The person's lists the account is in."""
    found = await lists.lists_with(
        services(), current_viewer().account_id, id_param(account_id, "id")
    )
    return jsonify([list_entity(row) for row in found])
