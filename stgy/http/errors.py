"""One place that turns errors into answers: `{"error": ..., "detail": ...}` JSON, or the
web face's HTML page for a browser asking for a page (same status, same headers)."""

from __future__ import annotations

import errno
import logging
import socket
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from quart import Quart, Response, current_app, g, jsonify, request
from quart.typing import ResponseReturnValue
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from stgy.domain.errors import DomainError
from stgy.logs import quote

log = logging.getLogger("stgy.api")

# Seconds a client is asked to wait when PostgreSQL or Redis cannot be reached:
# a restart of either takes a few seconds.
RETRY_AFTER_SECONDS = 5

# PostgreSQL or Redis going away, by the service named in /healthz: the error code
# and what the client is told.
OUTAGES = {
    "postgresql": (
        "database_unavailable",
        "the database cannot be reached right now; try again in a few seconds",
    ),
    "redis": (
        "redis_unavailable",
        "the job queue and rate limits (Redis) cannot be reached right now; "
        "try again in a few seconds",
    ),
}

# What asyncpg raises when the server is gone, restarting or refusing connections.
_POSTGRES_DOWN = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError...
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,  # pg_ctl stop -m fast ended our session
    asyncpg.CrashShutdownError,
)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
    }
)


# A connection that was fine when taken from the pool and turned out dead: worth one
# more try on a new one (unlike a refused connect or a timeout, which would fail again).
_DEAD_CONNECTION = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    ConnectionResetError,
    BrokenPipeError,
)
_READS = frozenset({"GET", "HEAD"})
_RETRIED = "retried_read"


def found_dead_connection(exc: BaseException) -> bool:
    """True when `exc` (or what it was raised while handling) is a pooled connection
    found dead on use."""
    chain: BaseException | None = exc
    for _ in range(5):
        if chain is None:
            return False
        if isinstance(chain, _DEAD_CONNECTION) or (
            isinstance(chain, asyncpg.InterfaceError) and "connection is closed" in str(chain)
        ):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


# A face that serves pages (stgy/web) installs how an error looks as a page: a browser
# asking for HTML outside the machine paths gets it, with the same status and headers.
# The mapping of errors to statuses stays here, once.
HtmlErrorPage = Callable[[int, str], Awaitable[Response]]
_HTML_ERROR_PAGE = "stgy.html_error_page"
# Paths that answer programs (JSON, JSON-LD, XRD, metrics), whatever their Accept says.
_MACHINE_PATHS = ("/api/", "/.well-known/", "/nodeinfo/", "/healthz", "/metrics")


def install_html_error_page(app: Quart, page: HtmlErrorPage) -> None:
    app.extensions[_HTML_ERROR_PAGE] = page


def _html_error_page() -> HtmlErrorPage | None:
    """The installed page maker when this request is a browser's asking for a page."""
    page: HtmlErrorPage | None = current_app.extensions.get(_HTML_ERROR_PAGE)
    if page is None or request.path.startswith(_MACHINE_PATHS):
        return None
    # "*/*" alone (curl, most clients) picks JSON; a browser lists text/html first.
    best = request.accept_mimetypes.best_match(
        ("application/json", "application/activity+json", "text/html")
    )
    return page if best == "text/html" else None


async def answer_error(status: int, error: str, detail: Any = None) -> Response:
    """The error as JSON, or as a page to a browser (see install_html_error_page)."""
    page = _html_error_page()
    if page is not None:
        return await page(status, error)
    return error_response(status, error, detail)


def error_response(status: int, error: str, detail: Any = None) -> Response:
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    return response


async def outage_response(service: str) -> Response:
    error, detail = OUTAGES[service]
    response = await answer_error(503, error, detail)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_service(exc: BaseException) -> str | None:
    """'postgresql' or 'redis' when `exc` says that service cannot be reached (down,
    restarting, a dead connection, a connect or pool timeout); None for other errors.

    The errors it was raised while handling count too: a transaction cut by a restart
    ends in asyncpg's "Transaction.__aexit__(): the underlying connection is closed",
    raised while handling the ConnectionDoesNotExistError of the query in flight.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 5:
        seen.add(id(current))
        service = _unavailable_service(current)
        if service is not None:
            return service
        current = current.__cause__ or current.__context__
    return None


def _unavailable_service(exc: BaseException) -> str | None:
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return "redis"  # redis-py wraps its socket errors in these
    if isinstance(exc, _POSTGRES_DOWN):
        return "postgresql"
    if isinstance(exc, asyncpg.InterfaceError):
        # Else a misuse of asyncpg: a bug, not an outage.
        return "postgresql" if "connection is closed" in str(exc) else None
    network = isinstance(exc, ConnectionError | TimeoutError | socket.gaierror) or (
        isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS
    )
    # asyncpg lets socket errors and timeouts (connect, pool acquire, command_timeout)
    # through as they are: count them only when raised inside asyncpg.
    return "postgresql" if network and _raised_in(exc, "asyncpg") else None


def _raised_in(exc: BaseException, package: str) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).partition(".")[0] == package
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(DomainError)
    async def domain_error(exc: DomainError) -> Response:
        response = await answer_error(exc.status, exc.error, exc.detail)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = await answer_error(status, _slug(exc.name), exc.description)
        if status == 405 and exc.get_headers():
            for name, value in exc.get_headers():
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception) -> ResponseReturnValue:
        service = unavailable_service(exc)
        if service == "postgresql" and request.method in _READS and not g.get(_RETRIED):
            if found_dead_connection(exc):
                # A pooled connection that died unnoticed (PostgreSQL restarted or failed
                # over under it): a read is run once more, on a fresh connection.
                g.setdefault(_RETRIED, True)
                log.info("retry=read error=%s", quote(f"{type(exc).__name__}: {exc}"))
                try:
                    return await current_app.dispatch_request()
                except Exception as again:  # noqa: BLE001 - answered by these handlers
                    handled = await current_app.handle_user_exception(again)
                    return (
                        await http_error(handled) if isinstance(handled, HTTPException) else handled
                    )
        if service is not None:
            # An outage, not a bug: one line, no traceback; /healthz says the same.
            log.warning("unavailable=%s error=%s", service, quote(f"{type(exc).__name__}: {exc}"))
            return await outage_response(service)
        # Logged with its traceback; the client learns nothing about internals.
        log.exception("unhandled_error=%s", type(exc).__name__)
        return await answer_error(500, "internal_error", "the server failed; this was logged")
