"""The web face's guards: where unsafe requests may come from, CSRF tokens, cookies, headers.

The JSON API (bearer tokens) and the signed inboxes keep their own checks; these apply
to the routes of the web blueprints only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Response, request

from stgy.domain import browser_sessions
from stgy.web import context

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# No inline script or style anywhere: every script and stylesheet is a file of ours.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Pages differ by session and language, and carry CSRF tokens: never shared caches.
    "Cache-Control": "private, no-cache",
    "Vary": "Cookie, Accept-Language",
}


def cross_site_reason() -> str | None:
    """Why an unsafe request looks sent by another site, or None when it does not.

    Browsers send Sec-Fetch-Site; older ones only Origin; a request with neither (curl)
    has still to carry the CSRF token, which only our pages hand out."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        # "none": the person typed or bookmarked it; the CSRF token still has to match.
        if fetch_site not in ("same-origin", "none"):
            return f"Sec-Fetch-Site: {fetch_site}"
        return None
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if origin == "null" or not _same_origin(origin):
        return f"Origin: {origin}"
    return None


def _same_origin(origin: str) -> bool:
    """The instance's own origin, or the host this request was sent to (a test or an
    admin reaching the server by address)."""
    if origin.rstrip("/") == context.config().instance.base_url:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def csrf_failure() -> str | None:
    """Why this unsafe request fails the CSRF check, or None when it passes."""
    reason = cross_site_reason()
    if reason is not None:
        return f"cross-site request ({reason})"
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form
        token = form.get(CSRF_FIELD, "")
    viewer = await context.maybe_viewer()
    session_id = viewer.session_id if viewer is not None else None
    secret = context.csrf_secret()
    if not browser_sessions.csrf_token_matches(context.token_key(), secret, session_id, token):
        return "missing or wrong CSRF token"
    return None


def _secure() -> bool:
    return context.config().instance.scheme == "https"


def set_cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(browser_sessions.LIFETIME.total_seconds()),
        path="/",
        secure=_secure(),
        httponly=True,
        samesite="Lax",
    )


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=_secure(), httponly=True, samesite="Lax")


def finish_response(response: Response) -> Response:
    """Headers every answer of the web face gets: the CSRF cookie when one was made, and
    for HTML the strict CSP and its companions."""
    made = context.new_csrf_secret()
    if made is not None:
        set_cookie(response, context.CSRF_COOKIE, made)
    if response.mimetype == "text/html":
        for name, value in HTML_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
