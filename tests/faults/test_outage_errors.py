"""What PostgreSQL and Redis going away raises is told apart from bugs, and answered
503 with Retry-After in one place (stgy/http/errors.py)."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest
from quart import Quart, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from stgy.config import Config
from stgy.domain.errors import NotFound
from stgy.http.errors import (
    RETRY_AFTER_SECONDS,
    found_dead_connection,
    register_error_handlers,
    unavailable_service,
)
from stgy.services import make_redis
from storage import db
from tests.faults.servers import PrivatePostgres, PrivateRedis


async def test_postgresql_going_away_is_an_outage_and_the_pool_recovers(
    private_postgres: PrivatePostgres,
) -> None:
    pool = await db.create_pool(
        private_postgres.url, min_size=1, max_size=1, command_timeout=30, acquire_timeout=0.5
    )
    try:

        async def in_a_transaction() -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.fetchval("SELECT pg_sleep(30)")

        in_flight = asyncio.create_task(in_a_transaction())
        await asyncio.sleep(0.2)
        # Every connection busy: the pool's default acquire timeout, not a hang.
        with pytest.raises(TimeoutError) as busy:
            await pool.acquire()
        assert unavailable_service(busy.value) == "postgresql"

        private_postgres.stop()
        # asyncpg's "Transaction.__aexit__(): the underlying connection is closed",
        # raised while handling the query's ConnectionDoesNotExistError.
        with pytest.raises(asyncpg.InterfaceError) as cut:
            await in_flight
        assert unavailable_service(cut.value) == "postgresql", repr(cut.value)

        with pytest.raises(OSError) as refused:
            await pool.fetchval("SELECT 1")
        assert unavailable_service(refused.value) == "postgresql", repr(refused.value)

        private_postgres.start()
        assert await pool.fetchval("SELECT 1") == 1  # no restart of ours needed

        # Restarted while this loop was blocked, so the idle connection's end went
        # unnoticed (as when PostgreSQL fails over without closing it): its first use
        # fails as a dead connection, and the pool opens a new one for the next.
        private_postgres.restart("immediate")
        try:
            await pool.fetchval("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - which one is the point
            assert found_dead_connection(exc), repr(exc)
            assert unavailable_service(exc) == "postgresql", repr(exc)
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pool.close(), 5)


async def test_redis_going_away_is_an_outage_and_the_client_recovers(
    private_redis: PrivateRedis,
) -> None:
    client = make_redis(Config().replace("redis", url=private_redis.url))
    try:
        assert await client.ping()
        private_redis.stop()
        with pytest.raises(RedisConnectionError) as refused:
            await client.ping()
        assert unavailable_service(refused.value) == "redis"
        private_redis.start()
        assert await client.ping()
        # Restarted under an idle pooled connection: the first command still succeeds.
        private_redis.restart()
        assert await client.ping()
    finally:
        await client.aclose()


def _raise_inside_asyncpg(exc: BaseException) -> BaseException:
    """`exc` as if asyncpg had let it through (its traceback passes through asyncpg)."""
    code = compile("raise exc", asyncpg.connect_utils.__file__, "exec")
    try:
        exec(code, {"__name__": "asyncpg.connect_utils", "exc": exc})  # noqa: S102
    except BaseException as raised:  # noqa: BLE001 - returned to the caller
        return raised
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        KeyError("a bug"),
        FileNotFoundError(2, "no such file"),  # media storage, not the database
        TimeoutError(),  # not raised in asyncpg: some other wait
        ConnectionRefusedError(111, "refused"),  # not raised in asyncpg: httpx, SMTP...
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.UniqueViolationError("duplicate key"),
        ResponseError("WRONGTYPE"),
    ],
)
def test_other_errors_are_not_outages(exc: BaseException) -> None:
    assert unavailable_service(exc) is None


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        OSError(113, "no route to host"),
        TimeoutError(),
    ],
)
def test_socket_errors_from_asyncpg_are_postgresql_outages(exc: BaseException) -> None:
    assert unavailable_service(_raise_inside_asyncpg(exc)) == "postgresql"


async def test_outages_answer_503_with_retry_after_and_bugs_500() -> None:
    app = Quart(__name__)
    register_error_handlers(app)
    errors: dict[str, BaseException] = {
        "pg": asyncpg.CannotConnectNowError("the database system is starting up"),
        "shutdown": asyncpg.AdminShutdownError("terminating connection"),
        "lost": asyncpg.ConnectionDoesNotExistError("connection was closed"),
        "closed": asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
        "redis": RedisConnectionError("Error 111 connecting"),
        "bug": ValueError("a bug"),
    }

    @app.get("/<name>")
    async def fail(name: str) -> str:
        raise errors[name]

    client = app.test_client()
    for name, error in (
        ("pg", "database_unavailable"),
        ("shutdown", "database_unavailable"),
        ("lost", "database_unavailable"),
        ("closed", "database_unavailable"),
        ("redis", "redis_unavailable"),
    ):
        response = await client.get(f"/{name}")
        assert response.status_code == 503, name
        body = await response.get_json()
        assert body["error"] == error and body["detail"], body
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    response = await client.get("/bug")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert (await response.get_json())["error"] == "internal_error"


async def test_a_read_on_a_dead_connection_is_run_again_once() -> None:
    app = Quart(__name__)
    register_error_handlers(app)
    calls: dict[str, int] = {}
    dead = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    def count(name: str) -> int:
        calls[name] = calls.get(name, 0) + 1
        return calls[name]

    @app.route("/flaky", methods=["GET", "POST"])
    async def flaky() -> dict[str, int]:
        attempt = count(f"flaky {request.method}")
        if attempt == 1:
            raise dead
        return {"attempt": attempt}

    @app.get("/dead")
    async def always_dead() -> str:
        count("dead")
        raise dead

    @app.get("/gone")
    async def gone() -> str:
        if count("gone") == 1:
            raise dead
        raise NotFound("no such post")

    @app.get("/refused")
    async def refused() -> str:
        count("refused")
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    client = app.test_client()
    response = await client.get("/flaky")
    assert response.status_code == 200 and await response.get_json() == {"attempt": 2}
    response = await client.post("/flaky")  # a write is not run twice: 503
    assert response.status_code == 503 and calls["flaky POST"] == 1
    response = await client.get("/dead")
    assert response.status_code == 503 and calls["dead"] == 2
    assert (await response.get_json())["error"] == "database_unavailable"
    response = await client.get("/gone")
    assert response.status_code == 404 and calls["gone"] == 2
    response = await client.get("/refused")  # not a dead connection: no second try
    assert response.status_code == 503 and calls["refused"] == 1
