"""Errors as pages: what stgy/http/errors.py answers a browser that asked for HTML."""

from __future__ import annotations

from quart import Response

from stgy.web import context, i18n, security
from stgy.web.rendering import render_page


async def error_page(status: int, error: str) -> Response:
    """The error page for `status`; with no database lookups on a 5xx (the database may
    be what failed)."""
    viewer = None
    if status < 500:
        viewer = await context.maybe_viewer()
    else:
        context.set_viewer(None)
    i18n.choose_language(viewer.language if viewer is not None else None)
    response = await render_page("pages/error.html", status=status, error=error)
    # Unknown paths belong to no blueprint of the web face: its headers are added here.
    return security.finish_response(response)
