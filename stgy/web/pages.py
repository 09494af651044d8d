"""The instance's own pages: `/` (about it, or the home page once logged in) and `/about`."""

from __future__ import annotations

from quart import Blueprint, Response

from stgy.domain import accounts, instance_info
from stgy.web import context
from stgy.web.rendering import render_page

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index() -> Response:
    viewer = await context.maybe_viewer()
    if viewer is None:
        about = await instance_info.about(context.services())
        return await render_page("pages/index.html", about=about)
    account = await accounts.get_account(context.services(), viewer.account_id)
    return await render_page("pages/home.html", account=account)


@bp.get("/about")
async def about() -> Response:
    about = await instance_info.about(context.services())
    return await render_page("pages/about.html", about=about)
