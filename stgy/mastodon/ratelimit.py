"""Rate limits on the Mastodon API as Mastodon sets them: X-RateLimit-* headers on its
answers, 429 `{"error": "Too many requests"}` over a limit (stgy.domain.ratelimit counts)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from quart import Quart, Response, g, request

from stgy.domain import oauth, ratelimit
from stgy.domain.ratelimit import Allowance, Rule
from stgy.mastodon.auth import bearer_token, maybe_holder
from stgy.mastodon.errors import TokenInvalid, error_response
from stgy.services import Services

_PREFIXES = ("/api/v1/", "/api/v2/")
_MEDIA = frozenset({"/api/v1/media", "/api/v2/media"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ALLOWANCE = "mastodon_rate_allowance"


def covers(path: str) -> bool:
    """Whether a path is the Mastodon API's (its own limits, instead of the native ones)."""
    return path.startswith(_PREFIXES) or path in ("/api/v1", "/api/v2")


async def _who(client: str) -> str:
    """Whom a request counts for: the person behind its token, as Mastodon counts
    (all of a person's apps share one count); an app's own token (no person) or a
    token that holds nothing, by itself; no token, the client's address.

    The holder comes from the holders seen lately (stgy.domain.oauth.recent_holder,
    no statement) or else from the token's statement, which the endpoint would make
    anyway: maybe_holder keeps it on the request for the endpoint."""
    token = bearer_token()
    if token is None:
        return "ip:" + client
    holder = oauth.recent_holder(token)
    if holder is None:
        try:
            holder = await maybe_holder()
        except TokenInvalid:
            holder = None  # the endpoint answers 401; counted by the token meanwhile
    if holder is not None and holder.viewer is not None:
        return f"account:{holder.viewer.account_id}"
    # A digest: tokens are never written to Redis in clear.
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


async def _rules(services: Services, client: str) -> list[Rule]:
    limits = services.config.limits
    who = await _who(client)
    prefix = f"{services.config.namespace}:rate:mastodon:"
    rules = [Rule(prefix + who, limits.mastodon_requests, limits.mastodon_window_seconds)]
    path = request.path.rstrip("/")
    if request.method == "POST" and path in _MEDIA:
        rules.append(
            Rule(
                prefix + "media:" + who,
                limits.mastodon_media_uploads,
                limits.mastodon_media_window_seconds,
            )
        )
    if request.method in _WRITES:
        # The native API's write limit per address, counted in the same round trip.
        rules.append(
            Rule(ratelimit.write_key(services, client), limits.rate_limit_requests_per_minute, 60)
        )
    return rules


def _reset_at(allowance: Allowance) -> str:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=allowance.reset_after)
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _set_headers(response: Response, allowance: Allowance) -> None:
    response.headers["X-RateLimit-Limit"] = str(allowance.limit)
    response.headers["X-RateLimit-Remaining"] = str(allowance.remaining)
    response.headers["X-RateLimit-Reset"] = _reset_at(allowance)


async def check(services: Services, client: str) -> Response | None:
    """Count this Mastodon API request; the 429 answer when it is over a limit."""
    if request.method == "OPTIONS":
        return None  # CORS preflights are the browser's, not the app's
    allowance = await ratelimit.count_request(services, await _rules(services, client))
    if allowance is None:
        return None
    setattr(g, _ALLOWANCE, allowance)
    if not allowance.exceeded:
        return None
    response = error_response(429, "Too many requests")
    response.headers["Retry-After"] = str(allowance.reset_after)
    return response


def install(app: Quart) -> None:
    """The X-RateLimit-* headers on every answer whose request was counted."""

    @app.after_request
    async def rate_limit_headers(response: Response) -> Response:
        allowance: Allowance | None = g.get(_ALLOWANCE)
        if allowance is not None:
            _set_headers(response, allowance)
        return response
