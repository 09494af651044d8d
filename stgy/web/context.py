"""What web routes know of the request: services, config, the browser's session and CSRF token.

The only module of the web face that imports the shared request helpers, so that moving
them (to stgy/http/) touches one import line here.
"""

from __future__ import annotations

from quart import current_app, g, request

from stgy.config import Config, InstanceConfig
from stgy.domain import browser_sessions, instance_settings
from stgy.http.context import (
    SERVICES_KEY,
    client_ip,
    config,
    note_session_use,
    page_renderer,
    services,
    token_key,
)
from stgy.http.errors import install_html_error_page, unavailable_service
from stgy.services import Services
from storage.sessions import BrowserViewer, Viewer

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "Config",
    "Services",
    "client_ip",
    "config",
    "csrf_secret",
    "csrf_token",
    "install_html_error_page",
    "instance",
    "maybe_viewer",
    "page_renderer",
    "set_viewer",
    "viewer_header",
    "services",
    "token_key",
]

SESSION_COOKIE = "stgy_session"
CSRF_COOKIE = "stgy_csrf"
_VIEWER = "web_viewer"
_HEADER = "web_viewer_header"
_CSRF_SECRET = "web_csrf_secret"  # noqa: S105 - the name of a g slot


async def instance() -> InstanceConfig:
    """The [instance] settings in force: instance.toml's with what admins changed live
    (cached a few seconds per process). instance.toml's alone before the services are
    up or while the database is down (the 503 page still renders)."""
    if SERVICES_KEY not in current_app.extensions:
        return config().instance
    try:
        return await instance_settings.effective_instance(services())
    except Exception as exc:
        if unavailable_service(exc) != "postgresql":
            raise
        return config().instance


async def maybe_viewer() -> Viewer | None:
    """The logged-in viewer of this browser (by its session cookie), or None."""
    if _VIEWER in g:
        cached: Viewer | None = g.get(_VIEWER)
        return cached
    cookie = request.cookies.get(SESSION_COOKIE)
    viewer = None
    found = None
    if cookie:
        found = await browser_sessions.viewer_of(services(), token_key(), cookie)
        viewer = found.viewer if found else None
    setattr(g, _VIEWER, viewer)
    setattr(g, _HEADER, found)
    if viewer is not None:
        await note_session_use(viewer.session_id)
    return viewer


async def viewer_header() -> BrowserViewer | None:
    """The viewer with their handle, display name and unread notifications, read in the
    same statement as the session (None when logged out or after set_viewer)."""
    await maybe_viewer()
    found: BrowserViewer | None = g.get(_HEADER)
    return found


def set_viewer(viewer: Viewer | None) -> None:
    """Set who the rest of this request renders for (after a login or a logout)."""
    setattr(g, _VIEWER, viewer)
    setattr(g, _HEADER, None)


def csrf_secret() -> str:
    """The browser's CSRF cookie value; a new one (set on the answer) when it has none."""
    secret: str | None = g.get(_CSRF_SECRET)
    if secret is None:
        secret = request.cookies.get(CSRF_COOKIE) or ""
        if not _plausible(secret):
            secret = browser_sessions.new_csrf_secret()
            g.web_new_csrf_secret = secret
        setattr(g, _CSRF_SECRET, secret)
    return secret


def _plausible(secret: str) -> bool:
    return 16 <= len(secret) <= 64 and secret.replace("-", "").replace("_", "").isalnum()


def new_csrf_secret() -> str | None:
    """The CSRF secret made during this request, to be set as a cookie, if any."""
    made: str | None = g.get("web_new_csrf_secret")
    return made


def csrf_token(viewer: Viewer | None) -> str:
    session_id = viewer.session_id if viewer is not None else None
    return browser_sessions.csrf_token(token_key(), csrf_secret(), session_id)
