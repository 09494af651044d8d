"""SQL for `durable_jobs`: jobs recorded in PostgreSQL so that losing Redis loses none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from storage.db import Conn
from storage.outbox import RELAY_CHANNEL


@dataclass(frozen=True)
class DurableJob:
    id: int
    function: str
    key: str
    kwargs: dict[str, Any]


_COLUMNS = "id, function, key, kwargs::text"


def _job(row: Any) -> DurableJob:
    return DurableJob(row[0], row[1], row[2], orjson.loads(row[3]))


async def insert_jobs(
    conn: Conn, *, function: str, keys: list[str], kwargs: list[dict[str, Any]]
) -> int:
    """Record jobs for the relay to enqueue after commit (a key already recorded and not
    yet finished is left as it is); how many were new."""
    rows = await conn.fetch(
        "WITH new AS (INSERT INTO durable_jobs (function, key, kwargs)"
        " SELECT $1, k, a::jsonb FROM unnest($2::text[], $3::text[]) AS u (k, a)"
        " ON CONFLICT (key) DO NOTHING RETURNING 1)"
        " SELECT count(*), pg_notify('" + RELAY_CHANNEL + "', '') FROM new",
        function,
        keys,
        [orjson.dumps(k).decode() for k in kwargs],
    )
    count: int = rows[0][0]
    return count


async def take_unrelayed(conn: Conn, *, limit: int) -> list[DurableJob]:
    """Jobs waiting for the relay, stamped as enqueued now (SKIP LOCKED: two relays never
    take the same one)."""
    rows = await conn.fetch(
        "UPDATE durable_jobs SET enqueued_at = now() WHERE id IN ("
        " SELECT id FROM durable_jobs WHERE enqueued_at IS NULL"
        " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING " + _COLUMNS,
        limit,
    )
    return sorted(map(_job, rows), key=lambda job: job.id)


async def idle_jobs(
    conn: Conn, *, idle_seconds: float, after_id: int, limit: int
) -> list[DurableJob]:
    """Jobs above `after_id` not (re-)enqueued for `idle_seconds`, in id order."""
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + " FROM durable_jobs WHERE id > $2"
        " AND coalesce(enqueued_at, created_at) < now() - make_interval(secs => $1::float8)"
        " ORDER BY id LIMIT $3",
        idle_seconds,
        after_id,
        limit,
    )
    return [_job(row) for row in rows]


async def stamp_enqueued(conn: Conn, *, job_ids: list[int]) -> list[int]:
    rows = await conn.fetch(
        "UPDATE durable_jobs SET enqueued_at = now() WHERE id = ANY($1::bigint[]) RETURNING id",
        job_ids,
    )
    return sorted(row[0] for row in rows)


async def delete_job(conn: Conn, *, key: str) -> None:
    await conn.execute("DELETE FROM durable_jobs WHERE key = $1", key)


async def count_unrelayed(conn: Conn) -> int:
    n: int = await conn.fetchval("SELECT count(*) FROM durable_jobs WHERE enqueued_at IS NULL")
    return n


async def count_jobs(conn: Conn) -> int:
    n: int = await conn.fetchval("SELECT count(*) FROM durable_jobs")
    return n
