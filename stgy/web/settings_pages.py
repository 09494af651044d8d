"""/settings/...: a logged-in person's profile, password, email address and mail settings.

Plain forms (they work without JavaScript); a saved form answers 303 back to its page
with `?saved=1`, so reloading does not send it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from quart import Blueprint, Response, request
from werkzeug.datastructures import FileStorage

from stgy.domain import account_settings, accounts
from stgy.domain.accounts import Account
from stgy.domain.errors import DomainError, Invalid
from stgy.domain.mail import email_confirmation, mail_notifications
from stgy.domain.media import uploads
from stgy.web import context, security
from stgy.web.form_errors import FormErrors, form_errors, required
from stgy.web.rendering import go_to, render_page
from storage.sessions import Viewer

bp = Blueprint("settings", __name__, url_prefix="/settings")

PROFILE_FIELDS = ("display_name", "bio", "fields", "avatar", "header")
# An image bigger than `media.inline_pixels` is made by a job: wait this long for it.
_MEDIA_WAIT_SECONDS = 15.0


async def form_values() -> dict[str, str]:
    form = await request.form
    return {name: form.get(name, "") for name in form if name != security.CSRF_FIELD}


async def require_viewer() -> Viewer | Response:
    """The viewer, or the log-in page's redirect (back here afterwards)."""
    viewer = await context.maybe_viewer()
    if viewer is None:
        return go_to("/auth/login?next=" + request.path)
    return viewer


def saved() -> Response:
    return go_to(request.path + "?saved=1")


async def settings_page(
    page: str, values: Mapping[str, object], errors: FormErrors, status: int = 200, **extra: Any
) -> Response:
    return await render_page(
        f"pages/settings/{page}.html",
        status=status,
        section=page,
        values=values,
        errors=errors,
        saved=request.args.get("saved") == "1" and status == 200,
        **extra,
    )


@bp.get("")
@bp.get("/")
async def index() -> Response:
    return go_to("/settings/profile")


# --- Profile ---------------------------------------------------------------------------


def _profile_values(account: Account) -> dict[str, object]:
    rows = [*account.fields, *({"name": "", "value": ""} for _ in range(accounts.MAX_FIELDS))]
    return {
        "display_name": account.display_name,
        "bio": account.bio_source,
        "fields": rows[: accounts.MAX_FIELDS],
        "locked": account.locked,
        "bot": account.bot,
    }


@bp.get("/profile")
async def profile_form() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    account = await accounts.get_account(context.services(), viewer.account_id)
    return await settings_page("profile", _profile_values(account), FormErrors(), account=account)


async def _uploaded_media_id(viewer: Viewer, part: FileStorage | None, which: str) -> str | None:
    """The id of the image sent as `which`, once ready; None when no file was chosen."""
    if part is None or not part.filename:
        return None
    services = context.services()
    data = part.read(services.config.limits.media_bytes + 1)
    if not data:
        return None
    try:
        media = await uploads.upload(
            services,
            viewer.account_id,
            uploads.Upload(data=data, declared_type=part.mimetype or None, purpose=which),
        )
    except Invalid as exc:
        raise Invalid(which, exc.reason) from None
    waited = 0.0
    while media.state == "processing" and waited < _MEDIA_WAIT_SECONDS:
        await asyncio.sleep(0.25)
        waited += 0.25
        media = await uploads.get_own(services, viewer.account_id, media.id)
    if media.state != "ready":
        raise Invalid(which, "the image could not be processed")
    return str(media.id)


@bp.post("/profile")
async def profile() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    form = await request.form
    files = await request.files
    fields = [
        {"name": form.get(f"field_name_{i}", "").strip(), "value": form.get(f"field_value_{i}", "")}
        for i in range(accounts.MAX_FIELDS)
    ]
    changes: dict[str, object] = {
        "display_name": form.get("display_name", "").strip(),
        "bio": form.get("bio", ""),
        "fields": [row for row in fields if row["name"] or row["value"].strip()],
        "locked": form.get("locked") == "on",
        "bot": form.get("bot") == "on",
    }
    try:
        for which in ("avatar", "header"):
            if form.get(f"remove_{which}") == "on":
                changes[f"{which}_media_id"] = None
            media_id = await _uploaded_media_id(viewer, files.get(which), which)
            if media_id is not None:
                changes[f"{which}_media_id"] = media_id
        await accounts.update_profile(context.services(), viewer.account_id, changes)
    except DomainError as exc:
        account = await accounts.get_account(context.services(), viewer.account_id)
        values = {**_profile_values(account), **changes, "fields": fields}
        found = form_errors(exc, PROFILE_FIELDS)
        if isinstance(exc, Invalid) and exc.field.startswith("fields."):
            found = FormErrors(fields={"fields": found.form or ""})
        return await settings_page("profile", values, found, exc.status, account=account)
    return saved()


# --- Password --------------------------------------------------------------------------


@bp.get("/password")
async def password_form() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    return await settings_page("password", {}, FormErrors())


@bp.post("/password")
async def password() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    values = await form_values()
    errors = required(values, ("current_password", "new_password"))
    if not errors:
        try:
            await account_settings.change_password(
                context.services(),
                viewer,
                current_password=values["current_password"],
                new_password=values["new_password"],
            )
        except DomainError as exc:
            found = form_errors(exc, ("current_password", "new_password"))
            return await settings_page("password", {}, found, exc.status)
        return saved()
    return await settings_page("password", {}, errors, 400)


# --- Email address ---------------------------------------------------------------------


async def _email_page(
    viewer: Viewer, values: Mapping[str, object], errors: FormErrors, status: int = 200
) -> Response:
    mail = await mail_notifications.get_settings(context.services(), viewer.account_id)
    return await settings_page(
        "email", values, errors, status, mail=mail, sent=request.args.get("sent") == "1"
    )


@bp.get("/email")
async def email_form() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    return await _email_page(viewer, {}, FormErrors())


@bp.post("/email")
async def email() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    values = await form_values()
    values["email"] = values.get("email", "").strip()
    errors = required(values, ("email", "password"))
    if not errors:
        try:
            await email_confirmation.request_change(
                context.services(),
                viewer.account_id,
                email=values["email"],
                password=values["password"],
            )
        except DomainError as exc:
            found = form_errors(exc, ("email", "password"))
            if exc.status == 401:
                found = FormErrors(fields={"password": found.form or ""})
            return await _email_page(viewer, {"email": values["email"]}, found, exc.status)
        return go_to("/settings/email?sent=1")
    return await _email_page(viewer, {"email": values["email"]}, errors, 400)


@bp.post("/email/resend")
async def resend_confirmation() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    try:
        await email_confirmation.resend(context.services(), viewer.account_id)
    except DomainError as exc:
        return await _email_page(viewer, {}, form_errors(exc, ()), exc.status)
    return go_to("/settings/email?sent=1")


# --- Notification mails ----------------------------------------------------------------


@bp.get("/notifications")
async def mail_settings_form() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    mail = await mail_notifications.get_settings(context.services(), viewer.account_id)
    values = {"mail_on_follow": mail.mail_on_follow, "mail_on_mention": mail.mail_on_mention}
    return await settings_page("notifications", values, FormErrors())


@bp.post("/notifications")
async def mail_settings() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    values = await form_values()
    await mail_notifications.update_settings(
        context.services(),
        viewer.account_id,
        mail_on_follow=values.get("mail_on_follow") == "on",
        mail_on_mention=values.get("mail_on_mention") == "on",
    )
    return saved()
