"""The private servers of fault tests stop, come back on the same port, and go away."""

from __future__ import annotations

import asyncpg
import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from storage import db
from tests.faults.servers import PrivatePostgres, PrivateRedis


def test_private_redis_restarts_empty_on_its_port(private_redis: PrivateRedis) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    try:
        client.set("k", "v")
        private_redis.stop()
        try:
            client.ping()
            raise AssertionError("a stopped Redis answered")
        except RedisConnectionError:
            pass
        private_redis.start()
        assert client.get("k") is None  # nothing kept on disk
        client.set("k", "v")
        private_redis.restart()
        assert client.get("k") is None
        client.set("k", "v")
        private_redis.flushall()
        assert client.dbsize() == 0
    finally:
        client.close()


async def test_private_redis_works_inside_an_event_loop() -> None:
    with PrivateRedis() as server:
        for _ in range(2):
            client = aioredis.from_url(server.url)
            try:
                assert await client.ping()
            finally:
                await client.aclose()
            server.restart()  # blocking, but callable from a test's loop
    assert not server.home.exists()


async def test_private_postgres_keeps_its_data_across_restarts(
    private_postgres: PrivatePostgres,
) -> None:
    url = private_postgres.database_url("faults")
    assert await db.create_database_if_missing(url)
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
    private_postgres.stop()
    try:
        await conn.fetchval("SELECT 1")
        raise AssertionError("a query on a stopped PostgreSQL answered")
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
        pass
    finally:
        await conn.close(timeout=1)
    private_postgres.start()
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT v FROM kept") == 7
    finally:
        await conn.close()
    private_postgres.restart("immediate")
    assert await _answers(url)
    home = private_postgres.home
    private_postgres.close()
    assert not home.exists()
    assert not await _answers(url)


async def _answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=2)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await conn.close()
    return True
