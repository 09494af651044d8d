"""Native API: the home, public, local and tag timelines."""

from __future__ import annotations

from quart import Blueprint, Response

from stgy.api import schemas
from stgy.api.serializers import PAGE_RENDERER
from stgy.domain import timelines
from stgy.domain.renderings import RenderedPage
from stgy.http.context import maybe_viewer, note_session_use, require_session, services
from stgy.http.validation import parse_cursor, query, responds

bp = Blueprint("timelines", __name__, url_prefix="/api/timelines")


def _cursor(post_id: int | None) -> bytes:
    return b"null" if post_id is None else b'"%d"' % post_id


def _page(page: RenderedPage) -> Response:
    """{posts, newest, oldest}, the posts' JSON spliced in as assembled in SQL."""
    body = b"".join(
        (
            b'{"posts":[',
            page.body,
            b'],"newest":',
            _cursor(page.newest),
            b',"oldest":',
            _cursor(page.oldest),
            b"}",
        )
    )
    return Response(body, mimetype="application/json")


def _range(q: schemas.TimelineQuery) -> tuple[int | None, int | None]:
    return parse_cursor(q.since, "since"), parse_cursor(q.until, "until")


@bp.get("/home")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(None, 204)
@schemas.fails_with(400, 401)
async def home(query: schemas.TimelineQuery) -> Response | tuple[str, int]:
    """Posts and shares of the accounts I follow and my own, newest first; 204 when none."""
    # The page's statement checks that the session is live (one round trip in all).
    account_id, session_id = require_session()
    await note_session_use(session_id)
    since, until = _range(query)
    page = await timelines.home(
        services(),
        PAGE_RENDERER,
        account_id,
        session_id,
        since=since,
        until=until,
        limit=query.limit,
    )
    if page.newest is None:
        return "", 204
    return _page(page)


@bp.get("/public")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(schemas.Error, 400)
async def public(query: schemas.TimelineQuery) -> Response:
    """Public posts of every known account (shares left out); an empty list when none."""
    viewer = await maybe_viewer()
    since, until = _range(query)
    page = await timelines.public(
        services(),
        PAGE_RENDERER,
        viewer.account_id if viewer else None,
        local_only=False,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(page)


@bp.get("/local")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(schemas.Error, 400)
async def local(query: schemas.TimelineQuery) -> Response:
    """Public posts of this instance's accounts (shares left out); an empty list when none."""
    viewer = await maybe_viewer()
    since, until = _range(query)
    page = await timelines.public(
        services(),
        PAGE_RENDERER,
        viewer.account_id if viewer else None,
        local_only=True,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(page)


@bp.get("/tag/<tag>")
@query(schemas.TimelineQuery)
@responds(schemas.PostPage)
@responds(schemas.Error, 400)
async def tag(tag: str, query: schemas.TimelineQuery) -> Response:
    """Public posts with a hashtag (`#` optional, any case); an empty list when none."""
    viewer = await maybe_viewer()
    since, until = _range(query)
    page = await timelines.tagged(
        services(),
        PAGE_RENDERER,
        viewer.account_id if viewer else None,
        tag,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(page)
