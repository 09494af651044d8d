"""The instance's own pages: `/` (about it, or the home page once logged in) and `/about`."""

from __future__ import annotations

from quart import Blueprint, Response

from stgy.domain import domain_blocks, instance_info, rules
from stgy.web import context, timeline_pages
from stgy.web.i18n import gettext as _
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
    services = context.services()
    about = await instance_info.about(services)
    return await render_page(
        "pages/about.html",
        about=about,
        rules=await rules.list_rules(services),
        domain_blocks=await domain_blocks.public_blocks(services),
        severity_label=severity_label,
    )


def severity_label(severity: str) -> str:
    """A domain block's severity in the page's language."""
    labels = {
        "suspend": _("Suspended: nothing is exchanged"),
        "silence": _("Limited: kept out of public timelines"),
        "noop": _("No limit on posts"),
    }
    return labels.get(severity, severity)
