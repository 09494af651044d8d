"""Who calls the Mastodon API: the holder of an OAuth access token, and the scopes each
endpoint needs (`scoped`, which the later parts of the Mastodon API reuse)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from quart import g, request

from stgy.domain import oauth
from stgy.domain.oauth_scopes import covers
from stgy.http.context import note_session_use, services
from stgy.mastodon.errors import OutsideScopes, TokenInvalid, UserRequired
from storage.oauth import TokenHolder
from storage.sessions import Viewer

P = ParamSpec("P")
R = TypeVar("R")
_HOLDER = "mastodon_token_holder"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def maybe_holder(*, recent: bool = False) -> TokenHolder | None:
    """The token's holder; None without a token; TokenInvalid (401) for a bad one.
    `recent`: a holder seen lately will do, for an endpoint whose statement checks that
    the token's session is live (stgy.domain.oauth.recent_holder)."""
    if _HOLDER in g:
        cached: TokenHolder | None = g.get(_HOLDER)
        return cached
    token = bearer_token()
    holder = None
    if token is not None:
        holder = oauth.recent_holder(token) if recent else None
        if holder is None:
            holder = await oauth.token_holder(services(), token)
            if holder is None:
                raise TokenInvalid()
            # Whichever endpoint read it: the rate limit (stgy/mastodon/ratelimit.py)
            # reads a holder not seen lately before any endpoint does.
            oauth.remember_holder(token, holder)
        if holder.viewer is not None:
            await note_session_use(holder.viewer.session_id)
    setattr(g, _HOLDER, holder)
    return holder


async def require_holder(*scopes: str, user: bool = True, recent: bool = False) -> TokenHolder:
    """The holder of a valid token carrying one of `scopes` (any scope when none is
    named); a person's token when `user`. 401, 403 or 422 as Mastodon answers."""
    holder = await maybe_holder(recent=recent)
    if holder is None:
        raise TokenInvalid()
    if scopes and not any(covers(holder.scopes, scope) for scope in scopes):
        raise OutsideScopes()
    if user and holder.viewer is None:
        raise UserRequired()
    return holder


def scoped(
    *scopes: str, user: bool = True, recent: bool = False
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """An endpoint that needs a token with one of `scopes` (and a person behind it
    unless `user=False`). `recent`: the endpoint's own statement checks that the
    session is live, so a holder seen lately will do (see maybe_holder)."""

    def decorate(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(view)
        async def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            await require_holder(*scopes, user=user, recent=recent)
            return await view(*args, **kwargs)

        checked.mastodon_scopes = scopes  # type: ignore[attr-defined] # for the OpenAPI document
        return checked

    return decorate


def current_holder() -> TokenHolder:
    """The holder `scoped` checked for this request."""
    holder: TokenHolder | None = g.get(_HOLDER)
    if holder is None:
        raise TokenInvalid()
    return holder


def current_viewer() -> Viewer:
    """The person behind this request's token (an endpoint `scoped` with user=True)."""
    viewer = current_holder().viewer
    if viewer is None:
        raise UserRequired()
    return viewer
