"""Native API: the home, public, local and tag timelines."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.context import maybe_viewer, require_viewer, services
from stgy.api.serializers import post_json
from stgy.api.validation import parse_cursor, query, responds
from stgy.domain import timelines
from storage.posts import PostView

bp = Blueprint("timelines", __name__, url_prefix="/api/timelines")


def _page(posts: list[PostView]) -> Response:
    return jsonify(
        {
            "posts": [post_json(post) for post in posts],
            "newest": str(posts[0].id) if posts else None,
            "oldest": str(posts[-1].id) if posts else None,
        }
    )


def _range(q: schemas.TimelineQuery) -> tuple[int | None, int | None]:
    return parse_cursor(q.since, "since"), parse_cursor(q.until, "until")


@bp.get("/home")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(None, 204)
@responds(schemas.Error, 400)
@responds(schemas.Error, 401)
async def home(query: schemas.TimelineQuery) -> Response | tuple[str, int]:
    """Posts and shares of the accounts I follow and my own, newest first; 204 when none."""
    viewer = await require_viewer()
    since, until = _range(query)
    posts = await timelines.home(
        services(),
        viewer.account_id,
        since=since,
        until=until,
        limit=query.limit,
    )
    if not posts:
        return "", 204
    return _page(posts)


@bp.get("/public")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(schemas.Error, 400)
async def public(query: schemas.TimelineQuery) -> Response:
    """Public posts of every known account (shares left out); an empty list when none."""
    viewer = await maybe_viewer()
    since, until = _range(query)
    posts = await timelines.public(
        services(),
        viewer.account_id if viewer else None,
        local_only=False,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(posts)


@bp.get("/local")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(schemas.Error, 400)
async def local(query: schemas.TimelineQuery) -> Response:
    """Public posts of this instance's accounts (shares left out); an empty list when none."""
    viewer = await maybe_viewer()
    since, until = _range(query)
    posts = await timelines.public(
        services(),
        viewer.account_id if viewer else None,
        local_only=True,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(posts)


@bp.get("/tag/<tag>")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(schemas.Error, 400)
async def tag(tag: str, query: schemas.TimelineQuery) -> Response:
    """Public posts with a hashtag (`#` optional, any case); an empty list when none."""
    viewer = await maybe_viewer()
    since, until = _range(query)
    posts = await timelines.tagged(
        services(),
        viewer.account_id if viewer else None,
        tag,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(posts)
