"""Timelines as pages: home (the logged-in `/`), local, public (federated), tags, and the
viewer's bookmarks."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request

from stgy.domain import accounts, interactions, timelines, view_pages
from stgy.domain.renderings import RenderedPage
from stgy.http.validation import parse_cursor
from stgy.web import compose_pages, context
from stgy.web.post_cards import (
    PAGE_SIZE,
    cards,
    drawn_cards,
    limit_query,
    max_id,
    older_than,
    page_size,
)
from stgy.web.rendering import go_to, is_htmx, render_page

bp = Blueprint("timelines", __name__)


async def _timeline(template: str, page: RenderedPage, path: str, **values: Any) -> Response:
    posts = await drawn_cards(page, articles_only=True)
    return await render_page(
        template,
        partial="partials/timeline_page.html",
        posts=posts,
        older=older_than(page, len(posts)),
        page_path=path,
        limit_query=limit_query(),
        **values,
    )


async def home_page(account_id: int, session_id: int) -> Response:
    """The logged-in `/`: the composer, then the home timeline (the API's domain call).
    `?since_id=` asks for the posts newer than one shown: the live "new posts" bar loads
    them (htmx gets `partials/new_posts.html`, put on top of the timeline)."""
    since = parse_cursor(request.args.get("since_id"), "since_id")
    page = await timelines.home(
        context.services(),
        context.page_renderer(),
        account_id,
        session_id,
        since=since,
        until=max_id(),
        limit=page_size(),
    )
    if since is not None and is_htmx():
        return await render_page("partials/new_posts.html", posts=await drawn_cards(page))
    # "Logged in as": read with the session (no statement of its own).
    account: object = await context.viewer_header()
    if account is None:
        account = await accounts.get_account(context.services(), account_id)
    return await _timeline(
        "pages/home.html",
        page,
        "/",
        account=account,
        composer=compose_pages.blank_composer(context.csrf_token(await context.maybe_viewer())),
        page_size=PAGE_SIZE,
    )


@bp.get("/timelines/local")
async def local() -> Response:
    return await _public(local_only=True)


@bp.get("/timelines/public")
async def public() -> Response:
    return await _public(local_only=False)


async def _public(*, local_only: bool) -> Response:
    viewer = await context.maybe_viewer()
    page = await timelines.public(
        context.services(),
        context.page_renderer(),
        viewer.account_id if viewer else None,
        local_only=local_only,
        since=None,
        until=max_id(),
        limit=page_size(),
    )
    path = "/timelines/local" if local_only else "/timelines/public"
    return await _timeline("pages/timeline.html", page, path, local_only=local_only)


@bp.get("/tags/<tag>")
async def tag(tag: str) -> Response:
    viewer = await context.maybe_viewer()
    page = await timelines.tagged(
        context.services(),
        context.page_renderer(),
        viewer.account_id if viewer else None,
        tag,
        since=None,
        until=max_id(),
        limit=page_size(),
    )
    name = tag.removeprefix("#")
    return await _timeline("pages/tag.html", page, f"/tags/{name}", tag=name)


@bp.get("/bookmarks")
async def bookmarks() -> Response:
    """The viewer's bookmarks, newest bookmark first (the API's domain call: the posts it
    loads are drawn as they are); "Older posts" pages by bookmark id."""
    viewer = await context.maybe_viewer()
    if viewer is None:
        return go_to("/auth/login?next=/bookmarks")
    found = await interactions.bookmarks(
        context.services(), viewer.account_id, since=None, until=max_id(), limit=PAGE_SIZE
    )
    page = view_pages.views_page(context.page_renderer(), found.posts)
    posts = cards(page)
    return await render_page(
        "pages/bookmarks.html",
        partial="partials/timeline_page.html",
        posts=posts,
        older=found.oldest if len(found.posts) >= PAGE_SIZE else None,
        page_path="/bookmarks",
    )
