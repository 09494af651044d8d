"""SQL for `outbox_events`, the transactional outbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from storage.db import Conn

# NOTIFY channel of events recorded for the relay (enqueued_at NULL): a worker LISTENs
# and enqueues them (stgy/domain/jobs/relay.py).
RELAY_CHANNEL = "stgy_outbox"


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    enqueued_at: datetime | None
    attempts: int  # attempts begun, this one included while it runs (begin_attempt)
    last_error: str | None
    done_at: datetime | None
    # Set when the event ran out of attempts (a dead letter, stgy.domain.dead_letters).
    failed_at: datetime | None = None


def _event(row: asyncpg.Record) -> OutboxEvent:
    return OutboxEvent(
        id=row["id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        created_at=row["created_at"],
        enqueued_at=row["enqueued_at"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        done_at=row["done_at"],
        failed_at=row["failed_at"],
    )


_COLUMNS = "id, kind, payload, created_at, enqueued_at, attempts, last_error, done_at, failed_at"


async def insert_event(conn: Conn, *, kind: str, payload: dict[str, Any]) -> int:
    event_id: int = await conn.fetchval(
        "INSERT INTO outbox_events (kind, payload, enqueued_at) VALUES ($1, $2::jsonb, now())"
        " RETURNING id",
        kind,
        json.dumps(payload),
    )
    return event_id


async def claim_event(conn: Conn, *, event_id: int) -> OutboxEvent | None:
    """Lock a pending event for this transaction; None when done or being handled elsewhere."""
    row = await conn.fetchrow(
        "SELECT " + _COLUMNS + " FROM outbox_events"
        " WHERE id = $1 AND done_at IS NULL AND failed_at IS NULL FOR UPDATE SKIP LOCKED",
        event_id,
    )
    return _event(row) if row else None


async def event_exists(conn: Conn, *, event_id: int) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM outbox_events WHERE id = $1)", event_id
    )
    return found


@dataclass(frozen=True)
class Attempt:
    kind: str
    attempts: int  # attempts begun, this one included when `begun`
    begun: bool  # False: the event had used all its attempts already
    last_error: str | None


async def begin_attempt(conn: Conn, *, event_id: int, max_attempts: int) -> Attempt | None:
    """Count an attempt at a pending event before it is made, committed at once, so an
    attempt that never ends (a timeout, a worker killed) counts too; not when the event
    has had `max_attempts` already. None when the event is done, failed, or being
    applied elsewhere. Outside any transaction: the count must outlive the attempt's
    rollback. Committed without waiting for the disk (synchronous_commit off, for this
    statement only): a crash may lose a count, never a change, and the event's own
    commit right after flushes it anyway."""
    row = await conn.fetchrow(
        "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)),"
        " target AS (SELECT id, attempts FROM outbox_events"
        "  WHERE id = $1 AND done_at IS NULL AND failed_at IS NULL FOR UPDATE SKIP LOCKED)"
        " UPDATE outbox_events e"
        " SET attempts = e.attempts + CASE WHEN t.attempts < $2 THEN 1 ELSE 0 END"
        " FROM target t, quick WHERE e.id = t.id"
        " RETURNING e.kind, e.attempts, t.attempts < $2 AS begun, e.last_error",
        event_id,
        max_attempts,
    )
    return Attempt(row[0], row[1], row[2], row[3]) if row else None


async def mark_done(conn: Conn, *, event_id: int) -> None:
    await conn.execute(
        "UPDATE outbox_events SET done_at = now(), last_error = NULL WHERE id = $1", event_id
    )


async def record_failure(conn: Conn, *, event_id: int, error: str, dead: bool = False) -> None:
    """Keep why the attempt failed; `dead`: it was the last, the event is a dead letter."""
    await conn.execute(
        "UPDATE outbox_events SET last_error = $2,"
        " failed_at = CASE WHEN $3 THEN now() END WHERE id = $1 AND done_at IS NULL",
        event_id,
        error[:2000],
        dead,
    )


async def unfinished_events(
    conn: Conn, *, idle_seconds: float, retry_after_seconds: float, after_id: int, limit: int
) -> list[int]:
    """Ids above `after_id` of events not done and not (re-)enqueued for `idle_seconds`,
    or for `retry_after_seconds` when their last attempt failed; in id order."""
    rows = await conn.fetch(
        "SELECT id FROM outbox_events WHERE done_at IS NULL AND failed_at IS NULL AND id > $3"
        " AND coalesce(enqueued_at, created_at) < now() - make_interval(secs =>"
        " CASE WHEN last_error IS NULL THEN $1::float8 ELSE $2::float8 END)"
        " ORDER BY id LIMIT $4",
        idle_seconds,
        retry_after_seconds,
        after_id,
        limit,
    )
    return [row["id"] for row in rows]


async def stamp_enqueued(conn: Conn, *, event_ids: list[int]) -> list[int]:
    """Stamp these events as enqueued now, but for those done or being applied meanwhile."""
    rows = await conn.fetch(
        "UPDATE outbox_events SET enqueued_at = now() WHERE id IN ("
        " SELECT id FROM outbox_events WHERE id = ANY($1::bigint[])"
        " AND done_at IS NULL AND failed_at IS NULL"
        " FOR UPDATE SKIP LOCKED) RETURNING id",
        event_ids,
    )
    return sorted(row["id"] for row in rows)


async def take_unrelayed(conn: Conn, *, limit: int) -> list[int]:
    """Ids of events waiting for the relay, stamped as enqueued now (SKIP LOCKED: two
    relays never take the same event)."""
    rows = await conn.fetch(
        "UPDATE outbox_events SET enqueued_at = now() WHERE id IN ("
        " SELECT id FROM outbox_events WHERE enqueued_at IS NULL AND done_at IS NULL"
        " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id",
        limit,
    )
    return sorted(row["id"] for row in rows)


async def listen(url: str, callback: Callable[[], None]) -> asyncpg.Connection:
    """A connection of its own that calls `callback` on each NOTIFY on RELAY_CHANNEL,
    and when the connection is lost; the caller closes it."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        conn.add_termination_listener(lambda *_: callback())
        await conn.add_listener(RELAY_CHANNEL, lambda *_: callback())
    except BaseException:
        await conn.close()
        raise
    return conn


async def get_event(conn: Conn, *, event_id: int) -> OutboxEvent | None:
    row = await conn.fetchrow("SELECT " + _COLUMNS + " FROM outbox_events WHERE id = $1", event_id)
    return _event(row) if row else None


async def count_pending(conn: Conn) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM outbox_events WHERE done_at IS NULL AND failed_at IS NULL"
    )
    return n


async def count_unrelayed(conn: Conn) -> int:
    """Events still waiting for the relay to enqueue them."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM outbox_events WHERE enqueued_at IS NULL AND done_at IS NULL"
    )
    return n


@dataclass(frozen=True)
class Backlog:
    pending: int  # events not done (dead letters aside: they wait for an admin)
    oldest_seconds: float  # age of the oldest of them (0 when none)


async def backlog(conn: Conn) -> Backlog:
    row = await conn.fetchrow(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
        " FROM outbox_events WHERE done_at IS NULL AND failed_at IS NULL"
    )
    assert row is not None  # noqa: S101 - an aggregate always gives one row
    return Backlog(pending=row[0], oldest_seconds=row[1])
