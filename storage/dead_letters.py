"""SQL for dead letters: outbox events that ran out of attempts (`failed_at` set, not done)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from storage.db import Conn


@dataclass(frozen=True)
class DeadLetter:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    failed_at: datetime
    error: str  # the last attempt's error, as recorded


_COLUMNS = "id, kind, payload::text, attempts, failed_at, coalesce(last_error, '')"


def _letter(row: asyncpg.Record) -> DeadLetter:
    return DeadLetter(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5])


async def list_dead_letters(conn: Conn, *, limit: int) -> list[DeadLetter]:
    """The newest first."""
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + " FROM outbox_events"
        " WHERE failed_at IS NOT NULL AND done_at IS NULL"
        " ORDER BY failed_at DESC, id DESC LIMIT $1",
        limit,
    )
    return [_letter(row) for row in rows]


async def count_by_kind(conn: Conn) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT kind, count(*) FROM outbox_events"
        " WHERE failed_at IS NOT NULL AND done_at IS NULL GROUP BY kind"
    )
    return {row[0]: row[1] for row in rows}


async def revive(conn: Conn, *, event_id: int) -> DeadLetter | None:
    """Make a dead letter a pending event again, with all its attempts before it and
    stamped as enqueued now (the caller enqueues its job after commit); None when
    `event_id` is not a dead letter. What it was is returned."""
    row = await conn.fetchrow(
        "WITH old AS (SELECT " + _COLUMNS + " FROM outbox_events"
        "  WHERE id = $1 AND failed_at IS NOT NULL AND done_at IS NULL FOR UPDATE)"
        " UPDATE outbox_events e SET failed_at = NULL, attempts = 0, last_error = NULL,"
        " enqueued_at = now() FROM old WHERE e.id = old.id RETURNING old.*",
        event_id,
    )
    return _letter(row) if row else None


async def discard(conn: Conn, *, event_id: int) -> DeadLetter | None:
    """Mark a dead letter done without applying it (its error and failed_at stay, as a
    record); None when `event_id` is not a dead letter."""
    row = await conn.fetchrow(
        "UPDATE outbox_events SET done_at = now()"
        " WHERE id = $1 AND failed_at IS NOT NULL AND done_at IS NULL RETURNING " + _COLUMNS,
        event_id,
    )
    return _letter(row) if row else None
