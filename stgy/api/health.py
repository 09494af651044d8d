"""Operational endpoints: `/healthz` and `/metrics`."""

from __future__ import annotations

import asyncio

import asyncpg
from quart import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from stgy import __version__, metrics
from stgy.api.context import services
from stgy.api.errors import RETRY_AFTER_SECONDS
from storage import db

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
        await asyncio.wait_for(services().redis.ping(), _CHECK_TIMEOUT)
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
    jobs = services().jobs
    try:
        depth = await asyncio.wait_for(jobs.depth(), _CHECK_TIMEOUT)
    except (RedisError, OSError, TimeoutError):
        depth = -1  # Redis down: shown as -1 rather than failing the scrape
    return Response(metrics.render(jobs.name, depth), content_type=metrics.CONTENT_TYPE)
