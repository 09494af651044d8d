"""POST /api/v1/apps (register a client app) and GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain import oauth
from stgy.http.context import services
from stgy.mastodon.auth import current_holder, scoped
from stgy.mastodon.entities import application_entity, credential_application_entity
from stgy.mastodon.errors import TokenInvalid
from stgy.mastodon.params import list_param, read_params, text_param

bp = Blueprint("mastodon_apps", __name__, url_prefix="/api/v1/apps")


def redirect_uris(value: list[str]) -> list[str]:
    """`redirect_uris` as a list, a string of newline- (or space-) separated URIs, or both."""
    found: list[str] = []
    for item in value:
        found.extend(item.split())
    return found


@bp.post("", strict_slashes=False)
async def create() -> Response:
    params = await read_params()
    uris = list_param(params, "redirect_uris") or list_param(params, "redirect_uri")
    registered = await oauth.register_app(
        services(),
        name=text_param(params, "client_name") or "",
        redirect_uris=redirect_uris(uris),
        scopes=text_param(params, "scopes") or " ".join(list_param(params, "scopes")) or None,
        website=text_param(params, "website"),
    )
    return jsonify(credential_application_entity(registered.app, registered.client_secret))


@bp.get("/verify_credentials", strict_slashes=False)
@scoped(user=False)
async def verify_credentials() -> Response:
    app = await oauth.find_app(services(), current_holder().app_id)
    if app is None:
        raise TokenInvalid()
    return jsonify(application_entity(app))
