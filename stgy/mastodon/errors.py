"""Errors as Mastodon sends them: `{"error": "..."}`; OAuth's `{"error", "error_description"}`."""

from __future__ import annotations

from quart import Response, jsonify
from werkzeug.exceptions import HTTPException

from stgy.domain.errors import (
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unprocessable,
)
from stgy.domain.oauth import OAuthError


class TokenInvalid(Unauthorized):
    def __init__(self) -> None:
        super().__init__("The access token is invalid")


class OutsideScopes(Forbidden):
    def __init__(self) -> None:
        super().__init__("This action is outside the authorized scopes")


class UserRequired(Unprocessable):
    def __init__(self) -> None:
        super().__init__("This method requires an authenticated user")


class RecordNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Record not found")


def message_of(exc: DomainError) -> str:
    """The sentence a Mastodon client shows for a domain error."""
    if isinstance(exc, Invalid):
        return f"Validation failed: {exc.field} {exc.reason}"
    if isinstance(exc.detail, str) and exc.detail:
        return exc.detail
    if isinstance(exc.detail, dict) and isinstance(exc.detail.get("reason"), str):
        return str(exc.detail["reason"])
    return exc.error.replace("_", " ").capitalize()


def error_response(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def oauth_error_response(exc: OAuthError) -> Response:
    response = jsonify({"error": exc.error, "error_description": exc.description})
    response.status_code = exc.status
    response.headers["Cache-Control"] = "no-store"
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="OAuth client"'
    return response


async def domain_error(exc: DomainError) -> Response:
    if isinstance(exc, OAuthError):
        return oauth_error_response(exc)
    # Mastodon answers a failed validation 422 (our other faces: 400).
    status = 422 if isinstance(exc, Invalid) else exc.status
    response = error_response(status, message_of(exc))
    if isinstance(exc, TokenInvalid):
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(exc, OutsideScopes):
        response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def http_error(exc: HTTPException) -> Response:
    response = error_response(exc.code or 500, exc.description or exc.name)
    return response
