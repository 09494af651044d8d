"""The OAuth 2 endpoints apps call: /oauth/token, /oauth/revoke, and the server metadata
(RFC 8414). The consent page, /oauth/authorize, is a web page (stgy/web/oauth_pages.py)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from quart import Blueprint, Response, jsonify, request

from stgy.domain import oauth
from stgy.domain.oauth_scopes import SUPPORTED_SCOPES
from stgy.http.context import client_ip, config, services
from stgy.mastodon.params import read_params, text_param
from storage.oauth import OAuthApp

bp = Blueprint("mastodon_oauth", __name__)
GRANT_TYPES = ("authorization_code", "client_credentials")


def _basic_credentials() -> tuple[str, str] | None:
    """client_id and client_secret from HTTP Basic (RFC 6749 2.3.1: each form-encoded)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


async def _client(params: dict[str, Any]) -> OAuthApp:
    basic = _basic_credentials()
    if basic is not None:
        client_id, secret = basic
    else:
        client_id = text_param(params, "client_id") or ""
        secret = text_param(params, "client_secret") or ""
    return await oauth.authenticate_client(services(), client_id, secret)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oauth/token")
async def token() -> Response:
    params = await read_params()
    grant_type = text_param(params, "grant_type") or ""
    if grant_type not in GRANT_TYPES:
        raise oauth.OAuthError(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    app = await _client(params)
    if grant_type == "authorization_code":
        issued = await oauth.exchange_code(
            services(),
            app,
            code=text_param(params, "code") or "",
            redirect_uri=text_param(params, "redirect_uri") or "",
            code_verifier=text_param(params, "code_verifier"),
            ip=client_ip(),
        )
    else:
        issued = await oauth.client_credentials(services(), app, text_param(params, "scope"))
    return _no_store(
        jsonify(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "scope": " ".join(issued.scopes),
                "created_at": int(issued.created_at.timestamp()),
            }
        )
    )


@bp.post("/oauth/revoke")
async def revoke() -> Response:
    params = await read_params()
    app = await _client(params)
    await oauth.revoke(services(), app, text_param(params, "token") or "")
    return _no_store(jsonify({}))


@bp.get("/.well-known/oauth-authorization-server")
async def metadata() -> Response:
    base = config().instance.base_url
    return jsonify(
        {
            "issuer": f"{base}/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "scopes_supported": list(SUPPORTED_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": list(GRANT_TYPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )
