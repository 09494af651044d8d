"""Where the mailed links land: email confirmation, password reset, unsubscribe.

Each link opens a page that acts only on a POST from its button or form: link scanners
and mail previews fetch links, and a GET must not confirm, reset or unsubscribe.
"""

from __future__ import annotations

from quart import Blueprint, Response, request

from stgy.domain.errors import DomainError
from stgy.domain.mail import email_confirmation, mail_notifications, password_reset
from stgy.web import context, security
from stgy.web.form_errors import FormErrors, form_errors, required
from stgy.web.rendering import go_to, render_page

bp = Blueprint("mail_pages", __name__)


async def _form() -> dict[str, str]:
    form = await request.form
    return {name: form.get(name, "") for name in form if name != security.CSRF_FIELD}


def _token() -> str:
    return request.args.get("token", "").strip()


@bp.get(email_confirmation.CONFIRM_PATH)
async def confirm_email_page() -> Response:
    return await render_page("pages/confirm_email.html", token=_token(), errors=FormErrors())


@bp.post(email_confirmation.CONFIRM_PATH)
async def confirm_email() -> Response:
    values = await _form()
    token = values.get("token", "").strip()
    try:
        confirmed = await email_confirmation.confirm(context.services(), token)
    except DomainError as exc:
        return await render_page(
            "pages/confirm_email.html",
            status=exc.status,
            token="",
            errors=form_errors(exc, ()),
        )
    return await render_page(
        "pages/confirm_email.html", token="", errors=FormErrors(), confirmed=confirmed
    )


async def _reset_page(
    template: str, values: dict[str, str], errors: FormErrors, status: int = 200
) -> Response:
    return await render_page(
        template,
        partial="partials/" + template.removeprefix("pages/").replace(".html", "_form.html"),
        status=status,
        values=values,
        errors=errors,
    )


@bp.get(password_reset.RESET_PATH)
async def password_reset_page() -> Response:
    token = _token()
    if token:
        return await _reset_page("pages/password_reset.html", {"token": token}, FormErrors())
    return await _reset_page("pages/password_reset_request.html", {}, FormErrors())


@bp.post(password_reset.RESET_PATH)
async def request_password_reset() -> Response:
    values = await _form()
    errors = required(values, ("login",))
    if errors:
        return await _reset_page("pages/password_reset_request.html", values, errors, 400)
    try:
        await password_reset.request_reset(
            context.services(), login=values["login"], ip=context.client_ip()
        )
    except DomainError as exc:
        errors = form_errors(exc, ())
        if exc.status == 400:
            errors = FormErrors(fields={"login": errors.form or ""})
        return await _reset_page("pages/password_reset_request.html", values, errors, exc.status)
    # The same answer whether an account matched or not: it tells nobody who is here.
    return go_to(password_reset.RESET_PATH + "/sent")


@bp.get(password_reset.RESET_PATH + "/sent")
async def password_reset_sent() -> Response:
    return await render_page("pages/password_reset_sent.html")


@bp.post(password_reset.RESET_PATH + "/confirm")
async def reset_password() -> Response:
    values = await _form()
    token = values.get("token", "")
    errors = required(values, ("new_password",))
    if errors:
        return await _reset_page("pages/password_reset.html", {"token": token}, errors, 400)
    try:
        await password_reset.reset(
            context.services(), token=token, new_password=values["new_password"]
        )
    except DomainError as exc:
        return await _reset_page(
            "pages/password_reset.html",
            {"token": token},
            form_errors(exc, ("new_password",)),
            exc.status,
        )
    return go_to(password_reset.RESET_PATH + "/done")


@bp.get(password_reset.RESET_PATH + "/done")
async def password_reset_done() -> Response:
    return await render_page("pages/password_reset_done.html")


@bp.get(mail_notifications.UNSUBSCRIBE_PAGE)
async def unsubscribe_page() -> Response:
    token = _token()
    try:
        found, enabled = await mail_notifications.check_unsubscribe(context.services(), token)
    except DomainError as exc:
        return await render_page(
            "pages/unsubscribe.html", status=exc.status, token="", kind=None, bad=True
        )
    return await render_page(
        "pages/unsubscribe.html", token=token, kind=found.kind, enabled=enabled, bad=False
    )


@bp.post(mail_notifications.UNSUBSCRIBE_PAGE)
async def unsubscribe() -> Response:
    values = await _form()
    try:
        found = await mail_notifications.unsubscribe(context.services(), values.get("token", ""))
    except DomainError as exc:
        return await render_page(
            "pages/unsubscribe.html", status=exc.status, token="", kind=None, bad=True
        )
    return await render_page(
        "pages/unsubscribe.html", token="", kind=found.kind, enabled=False, done=True, bad=False
    )
