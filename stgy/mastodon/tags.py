"""/api/v1/tags/:name (with follow and unfollow) and /api/v1/followed_tags."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain import tag_follows
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, maybe_holder, scoped
from stgy.mastodon.pagination import link_header, page_request
from stgy.mastodon.params import read_params
from stgy.mastodon.search import tag_entity

bp = Blueprint("mastodon_tags", __name__, url_prefix="/api/v1")


@bp.get("/tags/<name>", strict_slashes=False)
async def show(name: str) -> Response:
    """Any valid tag name answers (used or not), as Mastodon's does; `following` for a
    signed-in viewer."""
    tag = tag_follows.tag_name(name)
    holder = await maybe_holder()
    following = None
    if holder is not None and holder.viewer is not None:
        following = tag in await tag_follows.following(services(), holder.viewer.account_id, [tag])
    return jsonify(tag_entity(tag, config().instance.base_url, following=following))


@bp.post("/tags/<name>/follow", strict_slashes=False)
@scoped("write:follows")
async def follow(name: str) -> Response:
    tag = await tag_follows.follow(services(), current_viewer().account_id, name)
    return jsonify(tag_entity(tag, config().instance.base_url, following=True))


@bp.post("/tags/<name>/unfollow", strict_slashes=False)
@scoped("write:follows")
async def unfollow(name: str) -> Response:
    tag = await tag_follows.unfollow(services(), current_viewer().account_id, name)
    return jsonify(tag_entity(tag, config().instance.base_url, following=False))


@bp.get("/followed_tags", strict_slashes=False)
@scoped("read:follows")
async def followed_tags() -> Response:
    page = page_request(await read_params(), default=100, maximum=200)
    found = await tag_follows.followed(
        services(),
        current_viewer().account_id,
        until=page.max_id,
        since=page.since_id if page.since_id is not None else page.min_id,
        limit=page.limit,
    )
    base_url = config().instance.base_url
    response = jsonify([tag_entity(f.tag, base_url, following=True) for f in found])
    # Pages go by the follows' own ids, as Mastodon's do.
    link = link_header(page, [f.id for f in found])
    if link is not None:
        response.headers["Link"] = link
    return response
