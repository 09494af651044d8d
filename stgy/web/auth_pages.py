"""Sign up, log in, log out: forms over the same domain calls as the API's."""

from __future__ import annotations

from quart import Blueprint, Response, request

from stgy.domain import accounts, browser_sessions, rules
from stgy.domain.errors import DomainError
from stgy.web import context, security
from stgy.web.form_errors import FormErrors, form_errors, required
from stgy.web.rendering import go_to, local_path, render_page

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOGIN_FIELDS = ("login", "password")
SIGNUP_FIELDS = ("handle", "display_name", "email", "password", "reason")
# A 4xx status for each failed form, as the API would answer it.
_INVALID = 400


async def _form() -> dict[str, str]:
    form = await request.form
    return {name: form.get(name, "") for name in form if name != security.CSRF_FIELD}


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


async def _login_page(values: dict[str, str], errors: FormErrors, status: int) -> Response:
    return await render_page(
        "pages/login.html",
        partial="partials/login_form.html",
        status=status,
        values=values,
        errors=errors,
        next=local_path(values.get("next") or request.args.get("next")),
    )


async def _log_in(login: str, password: str) -> browser_sessions.BrowserSession:
    return await browser_sessions.log_in(
        context.services(),
        context.token_key(),
        login=login,
        password=password,
        ip=context.client_ip(),
        user_agent=_user_agent(),
    )


def _logged_in(session: browser_sessions.BrowserSession, location: str) -> Response:
    response = go_to(location)
    security.set_cookie(response, context.SESSION_COOKIE, session.cookie)
    return response


@bp.get("/login")
async def login_form() -> Response:
    if await context.maybe_viewer() is not None:
        return go_to(local_path(request.args.get("next")))
    return await _login_page({}, FormErrors(), 200)


@bp.post("/login")
async def login() -> Response:
    values = await _form()
    values["login"] = values.get("login", "").strip().removeprefix("@")
    errors = required(values, LOGIN_FIELDS)
    if errors:
        return await _login_page(values, errors, _INVALID)
    try:
        session = await _log_in(values["login"], values["password"])
    except DomainError as exc:
        # Whatever the cause, the password is never sent back into the page.
        return await _login_page(
            {**values, "password": ""}, form_errors(exc, ("login",)), exc.status
        )
    return _logged_in(session, local_path(values.get("next")))


@bp.post("/logout")
async def logout() -> Response:
    viewer = await context.maybe_viewer()
    if viewer is not None:
        await browser_sessions.log_out(context.services(), viewer)
    context.set_viewer(None)
    response = go_to("/")
    security.delete_cookie(response, context.SESSION_COOKIE)
    return response


async def _signup_page(values: dict[str, str], errors: FormErrors, status: int) -> Response:
    return await render_page(
        "pages/signup.html",
        partial="partials/signup_form.html",
        status=status,
        values=values,
        errors=errors,
        rules=await rules.list_rules(context.services()),
    )


@bp.get("/signup")
async def signup_form() -> Response:
    if await context.maybe_viewer() is not None:
        return go_to("/")
    return await _signup_page({}, FormErrors(), 200)


@bp.post("/signup")
async def signup() -> Response:
    values = await _form()
    values["handle"] = values.get("handle", "").strip().removeprefix("@")
    values["email"] = values.get("email", "").strip()
    errors = required(values, ("handle", "email", "password"))
    if errors:
        return await _signup_page({**values, "password": ""}, errors, _INVALID)
    try:
        registration = await accounts.register(
            context.services(),
            handle=values["handle"],
            display_name=values.get("display_name", "").strip(),
            password=values["password"],
            email=values["email"],
            reason=values.get("reason", "").strip(),
        )
    except DomainError as exc:
        return await _signup_page(
            {**values, "password": ""}, form_errors(exc, SIGNUP_FIELDS), exc.status
        )
    if registration.pending:
        return go_to("/auth/signup/pending")
    # Open registrations: the new account is logged in at once, as on most servers.
    session = await _log_in(values["handle"], values["password"])
    return _logged_in(session, "/")


@bp.get("/signup/pending")
async def signup_pending() -> Response:
    return await render_page("pages/signup_pending.html")
