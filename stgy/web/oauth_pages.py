"""/oauth/authorize: the consent page of OAuth 2 (Mastodon apps log in through it).

A normal web page: the web UI's login first when needed (back here afterwards), then a
form naming the app and the scopes, with the CSRF token; approving answers 303 to the
app's redirect URI with `code` and `state`, or shows the code for the out-of-band URI.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from quart import Blueprint, Response, request

from stgy.domain import browser_sessions, oauth
from stgy.domain.oauth import OOB, AuthorizationRequest, OAuthError
from stgy.web import context, i18n, security
from stgy.web.i18n import gettext as _
from stgy.web.rendering import go_to, render_page

bp = Blueprint("oauth_pages", __name__)

# The parameters of an authorisation request, carried from the page to its form.
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def scope_description(scope: str) -> str:
    """What a scope lets the app do, in the page's language."""
    described = {
        "read": _("Read everything in your account: posts, timelines, notifications, lists"),
        "write": _("Post, reply, like, share and delete on your behalf; change your profile"),
        "follow": _("Follow and unfollow accounts; block and mute them"),
        "push": _("Receive push notifications"),
        "profile": _("See your profile only"),
    }
    found = described.get(scope)
    if found is not None:
        return found
    if scope.startswith("read:"):
        return _("Read: %(part)s", part=scope.partition(":")[2])
    return _("Change: %(part)s", part=scope.partition(":")[2])


def form_action_source(redirect_uri: str) -> str | None:
    """The CSP source that lets the consent form's answer redirect to the app: its
    origin, or its scheme for an app's own (`myapp:`)."""
    if redirect_uri == OOB:
        return None
    parts = urlsplit(redirect_uri)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and parts.netloc:
        return f"{scheme}://{parts.netloc}"
    return f"{scheme}:"


def with_params(redirect_uri: str, params: dict[str, str | None]) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(kept)


async def _request_from(values: dict[str, str]) -> AuthorizationRequest:
    return await oauth.check_authorization_request(
        context.services(),
        client_id=values.get("client_id", ""),
        redirect_uri=values.get("redirect_uri", ""),
        response_type=values.get("response_type", ""),
        scope=values.get("scope") or None,
        state=values.get("state") or None,
        code_challenge=values.get("code_challenge") or None,
        code_challenge_method=values.get("code_challenge_method") or None,
    )


async def _error_page(exc: OAuthError) -> Response:
    return await render_page(
        "pages/oauth_error.html", status=exc.status, error=exc.error, description=exc.description
    )


async def _to_login(values: dict[str, str]) -> Response:
    back = "/oauth/authorize?" + urlencode({k: v for k, v in values.items() if v})
    return go_to("/auth/login?next=" + quote(back, safe=""))


@bp.get("/oauth/authorize")
async def authorize_form() -> Response:
    args = request.args
    values = {name: args.get(name, "") for name in REQUEST_FIELDS}
    lang = args.get("lang", "")
    if lang in i18n.LANGUAGES:
        i18n.set_language(lang)
        values["lang"] = lang
    viewer = await context.maybe_viewer()
    if args.get("force_login", "").lower() in ("true", "1") and viewer is not None:
        # Another account may be wanted: this browser logs out, then logs in again.
        await browser_sessions.log_out(context.services(), viewer)
        context.set_viewer(None)
        response = await _to_login(values)
        security.delete_cookie(response, context.SESSION_COOKIE)
        return response
    if viewer is None:
        return await _to_login(values)
    try:
        found = await _request_from(values)
    except OAuthError as exc:
        return await _error_page(exc)
    header = await context.viewer_header()
    response = await render_page(
        "pages/oauth_authorize.html",
        app=found.app,
        request_values=values,
        scopes=[(scope, scope_description(scope)) for scope in found.scopes],
        handle=header.handle if header is not None else "",
        out_of_band=found.redirect_uri == OOB,
        redirect_host=urlsplit(found.redirect_uri).netloc or urlsplit(found.redirect_uri).scheme,
    )
    source = form_action_source(found.redirect_uri)
    if source is not None:
        # The form's answer redirects to the app: CSP form-action covers redirects too.
        response.headers["Content-Security-Policy"] = security.CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {source}"
        )
    return response


@bp.post("/oauth/authorize")
async def authorize() -> Response:
    form = await request.form
    values = {name: form.get(name, "") for name in REQUEST_FIELDS}
    viewer = await context.maybe_viewer()
    if viewer is None:
        return await _to_login(values)
    try:
        found = await _request_from(values)
    except OAuthError as exc:
        return await _error_page(exc)
    if form.get("decision") != "approve":
        if found.redirect_uri == OOB:
            return await render_page("pages/oauth_code.html", app=found.app, code=None)
        denied = {
            "error": "access_denied",
            "error_description": "The resource owner or authorization server denied the request.",
            "state": found.state,
        }
        return go_to(with_params(found.redirect_uri, denied))
    code = await oauth.issue_code(context.services(), found, viewer.account_id)
    if found.redirect_uri == OOB:
        response = await render_page("pages/oauth_code.html", app=found.app, code=code)
        response.headers["Cache-Control"] = "no-store"
        return response
    return go_to(with_params(found.redirect_uri, {"code": code, "state": found.state}))
