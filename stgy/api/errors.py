"""One place that turns errors into JSON answers `{"error": ..., "detail": ...}`."""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

from stgy.domain.errors import DomainError

log = logging.getLogger("stgy.api")


def error_response(status: int, error: str, detail: Any = None) -> Response:
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    return response


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(DomainError)
    async def domain_error(exc: DomainError) -> Response:
        return error_response(exc.status, exc.error, exc.detail)

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = error_response(status, _slug(exc.name), exc.description)
        if status == 405 and exc.get_headers():
            for name, value in exc.get_headers():
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception) -> Response:
        # Logged with its traceback; the client learns nothing about internals.
        log.exception("unhandled_error=%s", type(exc).__name__)
        return error_response(500, "internal_error", "the server failed; this was logged")
