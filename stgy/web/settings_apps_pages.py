"""/settings/apps: the apps a person authorised (OAuth), and taking their access back."""

from __future__ import annotations

from quart import Blueprint, Response, request

from stgy.domain import oauth
from stgy.web import context
from stgy.web.form_errors import FormErrors
from stgy.web.rendering import go_to
from stgy.web.settings_pages import require_viewer, settings_page

bp = Blueprint("settings_apps", __name__, url_prefix="/settings")


@bp.get("/apps")
async def apps() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    found = await oauth.authorised_apps(context.services(), viewer.account_id)
    return await settings_page(
        "apps", {}, FormErrors(), apps=found, revoked=request.args.get("revoked") == "1"
    )


@bp.post("/apps/<int:app_id>/revoke")
async def revoke(app_id: int) -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    await oauth.revoke_authorised_app(context.services(), viewer.account_id, app_id)
    return go_to("/settings/apps?revoked=1")
