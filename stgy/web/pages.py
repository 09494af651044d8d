"""The instance's own pages: `/` (about it, or the home page once logged in) and `/about`."""

from __future__ import annotations

from quart import Blueprint, Response

from stgy.domain import instance_info
from stgy.web import context, timeline_pages
from stgy.web.rendering import render_page

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index() -> Response:
    viewer = await context.maybe_viewer()
    if viewer is None:
        about = await instance_info.about(context.services())
        return await render_page("pages/index.html", about=about)
    return await timeline_pages.home_page(viewer.account_id, viewer.session_id)


@bp.get("/about")
async def about() -> Response:
    about = await instance_info.about(context.services())
    return await render_page("pages/about.html", about=about)
