"""Typed errors the domain raises; `stgy/http/errors.py` maps them to HTTP answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    error = "bad_request"
    # Seconds to wait before asking again, sent as Retry-After; None: no such header.
    retry_after: int | None = None

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail)
        self.detail = detail


class Invalid(DomainError):
    status = 400
    error = "invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__({"field": field, "reason": reason})
        self.field = field
        self.reason = reason


class Unauthorized(DomainError):
    status = 401
    error = "unauthorized"


class RetryLater(Unauthorized):
    """401 with Retry-After: a signed request that cannot be checked now (its sender's
    actor may not be fetched yet); a server that delivers tries again later."""

    def __init__(self, detail: Any, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Forbidden(DomainError):
    status = 403
    error = "forbidden"


class NotFound(DomainError):
    status = 404
    error = "not_found"


class Conflict(DomainError):
    status = 409
    error = "conflict"


class Unprocessable(DomainError):
    status = 422
    error = "unprocessable"


class RateLimited(DomainError):
    status = 429
    error = "rate_limited"


class Unavailable(DomainError):
    status = 503
    error = "unavailable"


class TooLarge(DomainError):
    status = 413
    error = "request_entity_too_large"


class UnsupportedMedia(DomainError):
    status = 415
    error = "unsupported_media_type"


class BadGateway(DomainError):
    """Another server answered what we cannot use (an image proxy fetch)."""

    status = 502
    error = "bad_gateway"


class GatewayTimeout(DomainError):
    status = 504
    error = "gateway_timeout"


class OverLimit(DomainError):
    """A document from another server past one of the bounds of `federation.limits`."""

    status = 400
    error = "limit_exceeded"

    def __init__(self, field: str, reason: str, limit: int) -> None:
        super().__init__({"field": field, "reason": reason, "limit": limit})
        self.field = field
        self.reason = reason
        self.limit = limit
