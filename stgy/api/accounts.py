"""Native API: registration, login, profiles."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from stgy.api import schemas
from stgy.api.account_refs import account_id_of
from stgy.api.agents import AccountWithAgentOut, agent_profile_json
from stgy.api.serializers import account_json, iso
from stgy.domain import accounts, auth
from stgy.domain.agents import manage
from stgy.domain.errors import Invalid
from stgy.http.context import client_ip, require_viewer, services, token_key
from stgy.http.validation import json_body, responds

bp = Blueprint("accounts", __name__, url_prefix="/api")


def _status(body: object, status: int) -> tuple[Response, int]:
    return jsonify(body), status


@bp.post("/accounts")
@json_body(schemas.RegistrationIn)
@responds(schemas.RegistrationOut, 201)
@schemas.fails_with(400, 409)
async def register(body: schemas.RegistrationIn) -> tuple[Response, int]:
    registration = await accounts.register(
        services(),
        handle=body.handle,
        display_name=body.display_name,
        password=body.password,
        email=body.email,
    )
    return _status({**account_json(registration.account), "pending": registration.pending}, 201)


@bp.post("/auth/login")
@json_body(schemas.LoginIn)
@responds(schemas.TokenOut)
@schemas.fails_with(401, 429)
async def login(body: schemas.LoginIn) -> Response:
    who = body.handle or body.email
    if not who:
        raise Invalid("handle", "required (a handle or an email)")
    token = await auth.login(
        services(),
        token_key(),
        login=who,
        password=body.password,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
    )
    account = await accounts.get_account(services(), token.account_id)
    return jsonify(
        {
            "token": token.token,
            "token_type": "Bearer",
            "expires_at": iso(token.expires_at),
            "account": account_json(account),
        }
    )


@bp.post("/auth/refresh")
@responds(schemas.TokenOut)
@responds(schemas.Error, 401)
async def refresh() -> Response:
    viewer = await require_viewer()
    token = await auth.refresh(services(), token_key(), viewer)
    account = await accounts.get_account(services(), viewer.account_id)
    return jsonify(
        {
            "token": token.token,
            "token_type": "Bearer",
            "expires_at": iso(token.expires_at),
            "account": account_json(account),
        }
    )


@bp.post("/auth/logout")
@responds(None, 204)
@responds(schemas.Error, 401)
async def logout() -> tuple[str, int]:
    await auth.logout(services(), await require_viewer())
    return "", 204


@bp.get("/accounts/me")
@responds(schemas.AccountOut)
@responds(schemas.Error, 401)
async def me() -> Response:
    viewer = await require_viewer()
    return jsonify(account_json(await accounts.get_account(services(), viewer.account_id)))


@bp.patch("/accounts/me")
@json_body(schemas.ProfileIn)
@responds(schemas.AccountOut)
@schemas.fails_with(400, 401, 422)
async def update_me(body: schemas.ProfileIn) -> Response:
    viewer = await require_viewer()
    media_fields = {"avatar_media_id", "header_media_id"}
    changes = body.model_dump(exclude_unset=True, exclude=media_fields)
    changes = {k: v for k, v in changes.items() if v is not None}
    # For these, null is meaningful: it removes the avatar or header.
    changes |= {name: getattr(body, name) for name in media_fields & body.model_fields_set}
    account = await accounts.update_profile(services(), viewer.account_id, changes)
    return jsonify(account_json(account))


@bp.delete("/accounts/me")
@json_body(schemas.PasswordIn)
@responds(None, 204)
@responds(schemas.Error, 401)
async def delete_me(body: schemas.PasswordIn) -> tuple[str, int]:
    viewer = await require_viewer()
    await accounts.delete_account(services(), viewer.account_id, body.password)
    return "", 204


@bp.get("/accounts/<account_id>")
@responds(AccountWithAgentOut)
@schemas.fails_with(400, 404, 429)
async def get_account(account_id: str) -> Response:
    """An account by id, or by `@handle` / `@user@host`: a remote account we do not know
    yet is looked up on its server (WebFinger, then its actor document)."""
    found = await account_id_of(account_id, look_up=True)
    account = await accounts.get_account(services(), found)
    agent = await manage.agent_profile(services(), found) if account.bot else None
    return jsonify({**account_json(account), "agent": agent_profile_json(agent)})
