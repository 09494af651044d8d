"""Native API: email confirmation, password reset, email change, mail settings, unsubscribe."""

from __future__ import annotations

from urllib.parse import quote as url_quote

from quart import Blueprint, Response, jsonify, request

from stgy.api import schemas
from stgy.domain.errors import Invalid
from stgy.domain.mail import email_confirmation, mail_notifications, password_reset
from stgy.domain.mail.mail_notifications import MailSettings
from stgy.http.context import client_ip, require_viewer, services
from stgy.http.validation import json_body, query, responds

bp = Blueprint("mail", __name__, url_prefix="/api")


def _settings_json(settings: MailSettings) -> dict[str, object]:
    return {
        "email": settings.email,
        "email_confirmed": settings.email_confirmed,
        "pending_email": settings.pending_email,
        "mail_on_follow": settings.mail_on_follow,
        "mail_on_mention": settings.mail_on_mention,
    }


@bp.post("/auth/confirm-email")
@json_body(schemas.TokenIn)
@responds(schemas.ConfirmedOut)
@schemas.fails_with(400, 409)
async def confirm_email(body: schemas.TokenIn) -> Response:
    """Follow a mailed confirmation link: confirms the address, or switches to a new one."""
    confirmed = await email_confirmation.confirm(services(), body.token)
    return jsonify({"status": "confirmed", "email": confirmed.email, "changed": confirmed.changed})


@bp.post("/auth/confirm-email/resend")
@responds(schemas.StatusOut, 202)
@schemas.fails_with(401, 409, 429)
async def resend_confirmation() -> tuple[Response, int]:
    """Mail a new confirmation link to the viewer's address (earlier links stop working)."""
    viewer = await require_viewer()
    await email_confirmation.resend(services(), viewer.account_id)
    return jsonify({"status": "sent"}), 202


@bp.post("/auth/password-reset")
@json_body(schemas.PasswordResetIn)
@responds(schemas.StatusOut, 202)
@schemas.fails_with(400, 429)
async def request_password_reset(body: schemas.PasswordResetIn) -> tuple[Response, int]:
    """Mail a reset link to the account, if there is one: the answer is 202 either way."""
    login = body.email if body.email is not None else body.handle
    if login is None:
        raise Invalid("email", "required: the account's email address or handle")
    await password_reset.request_reset(services(), login=login, ip=client_ip())
    return jsonify({"status": "accepted"}), 202


@bp.post("/auth/password-reset/confirm")
@json_body(schemas.PasswordResetConfirmIn)
@responds(schemas.StatusOut)
@responds(schemas.Error, 400)
async def confirm_password_reset(body: schemas.PasswordResetConfirmIn) -> Response:
    """Set a new password with the mailed token; every session of the account ends."""
    await password_reset.reset(services(), token=body.token, new_password=body.new_password)
    return jsonify({"status": "password_changed"})


@bp.post("/accounts/me/email")
@json_body(schemas.EmailChangeIn)
@responds(schemas.EmailChangeOut, 202)
@schemas.fails_with(400, 401, 409, 429)
async def change_email(body: schemas.EmailChangeIn) -> tuple[Response, int]:
    """Change the address: a link goes to the new one, which replaces the old once opened."""
    viewer = await require_viewer()
    pending = await email_confirmation.request_change(
        services(), viewer.account_id, email=body.email, password=body.password
    )
    return jsonify({"status": "confirmation_sent", "pending_email": pending}), 202


@bp.get("/accounts/me/settings")
@responds(schemas.MailSettingsOut)
@responds(schemas.Error, 401)
async def get_settings() -> Response:
    """The viewer's address, its state, and which notification mails they get."""
    viewer = await require_viewer()
    return jsonify(
        _settings_json(await mail_notifications.get_settings(services(), viewer.account_id))
    )


@bp.patch("/accounts/me/settings")
@json_body(schemas.MailSettingsIn)
@responds(schemas.MailSettingsOut)
@schemas.fails_with(400, 401)
async def update_settings(body: schemas.MailSettingsIn) -> Response:
    """Turn notification mails on or off (fields left out or null stay as they are)."""
    viewer = await require_viewer()
    settings = await mail_notifications.update_settings(
        services(),
        viewer.account_id,
        mail_on_follow=body.mail_on_follow,
        mail_on_mention=body.mail_on_mention,
    )
    return jsonify(_settings_json(settings))


@bp.get("/mail/unsubscribe")
@query(schemas.UnsubscribeQuery)
@responds(schemas.UnsubscribeOut)
@schemas.fails_with(400, 404)
async def check_unsubscribe(query: schemas.UnsubscribeQuery) -> Response:
    """What the List-Unsubscribe link would turn off; changes nothing (link scanners GET).
    A browser (a mail client that opens the link rather than posting to it) is sent to
    the page with the button instead."""
    if request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html":
        page = f"{mail_notifications.UNSUBSCRIBE_PAGE}?token={url_quote(query.token)}"
        moved = Response("", status=303)
        moved.headers["Location"] = page
        return moved
    found, enabled = await mail_notifications.check_unsubscribe(services(), query.token)
    return jsonify({"kind": found.kind, "enabled": enabled})


@bp.post("/mail/unsubscribe")
@query(schemas.UnsubscribeQuery)
@responds(schemas.UnsubscribeOut)
@schemas.fails_with(400, 404)
async def unsubscribe(query: schemas.UnsubscribeQuery) -> Response:
    """One-click unsubscribe (RFC 8058): turns off the kind of mail the token names.
    Mail clients send the form body `List-Unsubscribe=One-Click`; any body is ignored."""
    found = await mail_notifications.unsubscribe(services(), query.token)
    return jsonify({"kind": found.kind, "enabled": False})
