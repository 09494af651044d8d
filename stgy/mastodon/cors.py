"""CORS as Mastodon sets it: any origin may call the APIs and the OAuth token endpoints
from a browser (tokens, never cookies, authorise them); the web pages keep their own rules."""

from __future__ import annotations

from quart import Quart, Response, jsonify, request

EXPOSED = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"
METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE = "7200"  # seconds a browser may keep a preflight's answer (Chromium's own cap)
_PREFIXES = ("/api/", "/.well-known/", "/nodeinfo/")
_PATHS = frozenset({"/oauth/token", "/oauth/revoke"})


def is_cors_path(path: str) -> bool:
    return path in _PATHS or path.startswith(_PREFIXES)


def install_cors(app: Quart) -> None:
    @app.before_request
    async def preflight() -> Response | None:
        if (
            request.method == "OPTIONS"
            and is_cors_path(request.path)
            and "Access-Control-Request-Method" in request.headers
        ):
            response = jsonify({})
            response.headers["Access-Control-Allow-Methods"] = METHODS
            asked = request.headers.get("Access-Control-Request-Headers")
            if asked:
                response.headers["Access-Control-Allow-Headers"] = asked
            response.headers["Access-Control-Max-Age"] = MAX_AGE
            return response
        return None

    @app.after_request
    async def allow_origin(response: Response) -> Response:
        if is_cors_path(request.path):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Expose-Headers"] = EXPOSED
        return response
