"""Operational endpoints: `/healthz` and `/metrics`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from quart import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from stgy import __version__, metrics
from stgy.domain import dead_letters
from stgy.http.context import services
from stgy.http.errors import RETRY_AFTER_SECONDS
from storage import db
from storage import dead_letters as dead_sql
from storage import deliveries as deliveries_sql
from storage import outbox as outbox_sql
from storage.db import Conn

T = TypeVar("T")

bp = Blueprint("health", __name__)

_CHECK_TIMEOUT = 2.0


async def _check_postgresql() -> str:
    try:
        await db.ping(services().pool, timeout=_CHECK_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.InterfaceError) as exc:
        return f"unreachable: {type(exc).__name__}"
    except asyncpg.PostgresError as exc:
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


async def _check_redis() -> str:
    try:
        await asyncio.wait_for(services().redis.ping(), _CHECK_TIMEOUT)  # type: ignore[arg-type]
    except (RedisError, OSError, TimeoutError) as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


@bp.get("/healthz")
async def healthz() -> tuple[Response, int]:
    postgresql, redis = await asyncio.gather(_check_postgresql(), _check_redis())
    checks = {"postgresql": postgresql, "redis": redis}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "version": __version__, "checks": checks}
    if not healthy:
        failed = [name for name, value in checks.items() if value != "ok"]
        response = jsonify({**body, "error": "unavailable", "detail": f"down: {', '.join(failed)}"})
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, 503
    return jsonify(body), 200


@bp.get("/metrics")
async def metrics_endpoint() -> Response:
    svc = services()
    depth, backlog, instances, dead = await asyncio.gather(
        _read(svc.jobs.depth()),
        _read(_with_conn(outbox_sql.backlog)),
        _read(_with_conn(deliveries_sql.instance_counts)),
        _read(_with_conn(dead_sql.count_by_kind)),
    )
    kinds = sorted(set(dead_letters.kinds()) | set(dead or {}))
    figures = metrics.Figures(
        queue_depth=-1 if depth is None else depth,
        outbox_pending=-1 if backlog is None else backlog.pending,
        outbox_oldest_seconds=-1.0 if backlog is None else backlog.oldest_seconds,
        instances_failing=-1 if instances is None else instances.failing,
        instances_unavailable=-1 if instances is None else instances.unavailable,
        dead_letters=tuple((k, -1 if dead is None else dead.get(k, 0)) for k in kinds),
    )
    return Response(metrics.render(svc.jobs.name, figures), content_type=metrics.CONTENT_TYPE)


async def _with_conn(read: Callable[[Conn], Awaitable[T]]) -> T:
    async with services().pool.acquire(timeout=_CHECK_TIMEOUT) as conn:
        return await read(conn)


async def _read(figure: Awaitable[T]) -> T | None:
    """A figure, or None when its service is down: shown as -1 rather than failing the
    scrape, which must work most when something is wrong."""
    try:
        return await asyncio.wait_for(figure, _CHECK_TIMEOUT)
    except (RedisError, OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError):
        return None
