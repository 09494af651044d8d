"""/settings/sessions, /settings/language, /settings/delete: the logins, the UI language,
and leaving the instance."""

from __future__ import annotations

from quart import Blueprint, Response, request

from stgy.domain import account_settings, accounts
from stgy.domain.errors import DomainError, Invalid
from stgy.web import context, security
from stgy.web.form_errors import FormErrors, form_errors, required
from stgy.web.rendering import go_to
from stgy.web.settings_pages import form_values, require_viewer, saved, settings_page

bp = Blueprint("settings_account", __name__, url_prefix="/settings")


# --- Sessions --------------------------------------------------------------------------


async def _sessions_page(viewer_session: int, errors: FormErrors, status: int = 200) -> Response:
    viewer = await context.maybe_viewer()
    assert viewer is not None  # noqa: S101 - the routes checked
    found = await account_settings.list_sessions(context.services(), viewer.account_id)
    return await settings_page(
        "sessions",
        {},
        errors,
        status,
        sessions=found,
        current_session=viewer_session,
        ended=request.args.get("ended") == "1",
    )


@bp.get("/sessions")
async def sessions() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    return await _sessions_page(viewer.session_id, FormErrors())


@bp.post("/sessions/<int:session_id>/end")
async def end_session(session_id: int) -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    try:
        await account_settings.end_session(context.services(), viewer.account_id, session_id)
    except DomainError as exc:
        return await _sessions_page(viewer.session_id, form_errors(exc, ()), exc.status)
    if session_id == viewer.session_id:  # this browser's own: it is logged out now
        context.set_viewer(None)
        response = go_to("/")
        security.delete_cookie(response, context.SESSION_COOKIE)
        return response
    return go_to("/settings/sessions?ended=1")


# --- Language --------------------------------------------------------------------------


@bp.get("/language")
async def language_form() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    values = {"language": viewer.language or ""}
    return await settings_page(
        "language", values, FormErrors(), languages=account_settings.UI_LANGUAGES
    )


@bp.post("/language")
async def language() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    chosen = (await form_values()).get("language", "")
    try:
        await account_settings.set_language(context.services(), viewer.account_id, chosen or None)
    except Invalid as exc:
        return await settings_page(
            "language",
            {"language": chosen},
            form_errors(exc, ("language",)),
            exc.status,
            languages=account_settings.UI_LANGUAGES,
        )
    return saved()


# --- Delete the account ----------------------------------------------------------------


@bp.get("/delete")
async def delete_form() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    return await settings_page("delete", {}, FormErrors())


@bp.post("/delete")
async def delete() -> Response:
    viewer = await require_viewer()
    if isinstance(viewer, Response):
        return viewer
    values = await form_values()
    errors = required(values, ("password",))
    if not errors:
        try:
            await accounts.delete_account(context.services(), viewer.account_id, values["password"])
        except DomainError as exc:
            found = form_errors(exc, ("password",))
            if exc.status == 401:
                found = FormErrors(fields={"password": found.form or ""})
            return await settings_page("delete", {}, found, exc.status)
        context.set_viewer(None)
        response = go_to("/?deleted=1")
        security.delete_cookie(response, context.SESSION_COOKIE)
        return response
    return await settings_page("delete", {}, errors, 400)
