"""Access to config, services and the logged-in viewer from route code (only here: current_app)."""

from __future__ import annotations

from typing import Any

from quart import current_app, g, request

from stgy.config import Config
from stgy.domain import auth, session_use
from stgy.domain.errors import Unauthorized
from stgy.domain.renderings import PageRenderer
from stgy.services import Services
from storage.sessions import Viewer

SERVICES_KEY = "stgy.services"
CONFIG_KEY = "stgy.config"
TOKEN_KEY = "stgy.token_key"  # noqa: S105 - the name of an extension slot
# How pages of posts are rendered (the native API's renderer): the app factory sets it,
# so every face assembles its pages from the same renderings without importing the API.
PAGE_RENDERER_KEY = "stgy.page_renderer"


def services() -> Services:
    found: Services = current_app.extensions[SERVICES_KEY]
    return found


def config() -> Config:
    found: Config = current_app.extensions[CONFIG_KEY]
    return found


def extension(key: str) -> Any:
    """A per-app object another API module keeps (e.g. the open streams)."""
    return current_app.extensions[key]


def page_renderer() -> PageRenderer:
    found: PageRenderer = current_app.extensions[PAGE_RENDERER_KEY]
    return found


def token_key() -> str:
    found: str = current_app.extensions[TOKEN_KEY]
    return found


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def maybe_viewer() -> Viewer | None:
    """The logged-in viewer, None without a token; a bad token is still 401."""
    if "viewer" in g:
        cached: Viewer | None = g.viewer
        return cached
    token = _bearer()
    viewer = await auth.authenticate(services(), token_key(), token) if token else None
    g.viewer = viewer
    if viewer is not None:
        await note_session_use(viewer.session_id)
    return viewer


async def note_session_use(session_id: int) -> None:
    """Record that this request used the session (written every few minutes at most)."""
    await session_use.note_use(services(), session_id, client_ip())


async def require_viewer() -> Viewer:
    viewer = await maybe_viewer()
    if viewer is None:
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    return viewer


def require_session() -> tuple[int, int]:
    """(account id, session id) of the request's token, checked but for the session row:
    for a route whose own statement checks that the session is live (the home page)."""
    token = _bearer()
    if token is None:
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    return auth.token_claims(services(), token_key(), token)


def client_ip() -> str:
    return request.remote_addr or "unknown"
