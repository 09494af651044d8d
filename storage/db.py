"""The asyncpg pool and database-level helpers (existence, creation, reachability)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolAcquireContext, PoolConnectionProxy

# A connection, whether taken from the pool or opened on its own.
Conn = asyncpg.Connection | PoolConnectionProxy


class Pool(asyncpg.Pool):
    """asyncpg's pool, but `acquire()` gives up after `acquire_timeout` by default.

    Without it a request waits forever for a connection: while PostgreSQL is
    unreachable (each connect waiting out its own timeout) or every connection is
    busy. A TimeoutError there becomes a 503 (stgy/http/errors.py).
    """

    __slots__ = ("acquire_timeout",)
    acquire_timeout: float

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def create_pool(
    url: str,
    *,
    min_size: int,
    max_size: int,
    command_timeout: float,
    connect_timeout: float = 5.0,
    acquire_timeout: float = 10.0,
) -> Pool:
    """The pool; a connection found dead (PostgreSQL restarted) is replaced on next use."""
    # As asyncpg.create_pool builds it, but of our class.
    pool = Pool(
        url,
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        reset=_keep_session,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        command_timeout=command_timeout,
        timeout=connect_timeout,
    )
    pool.acquire_timeout = acquire_timeout
    await pool
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query.

    asyncpg still rolls back an open transaction on release; its extra reset
    (unlock advisory locks, close cursors, UNLISTEN, RESET ALL) costs a round
    trip per release, and our pooled code never takes session-level locks,
    LISTENs or SETs session settings (migrations use a connection of their own).
    """


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def create_database_if_missing(url: str) -> bool:
    """Create the URL's database when it does not exist; True when it was created."""
    name = database_name(url)
    conn = await asyncpg.connect(with_database(url, "postgres"), timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        # CREATE DATABASE takes no parameters; the name is quoted as an identifier.
        quoted = await conn.fetchval("SELECT quote_ident($1)", name)
        try:
            await conn.execute("CREATE DATABASE " + quoted)
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    name = database_name(url)
    conn = await asyncpg.connect(with_database(url, "postgres"), timeout=10)
    try:
        quoted = await conn.fetchval("SELECT quote_ident($1)", name)
        await conn.execute("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)")
    finally:
        await conn.close()


async def ping(pool: asyncpg.Pool, *, timeout: float) -> None:
    async with pool.acquire(timeout=timeout) as conn:
        await conn.fetchval("SELECT 1", timeout=timeout)
