"""SQL for timeline markers: where a person stopped reading their home and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class Marker:
    timeline: str  # home | notifications
    last_read_id: str
    version: int
    updated_at: datetime


async def get_markers(conn: Conn, *, account_id: int, timelines: list[str]) -> list[Marker]:
    rows = await conn.fetch(
        "SELECT timeline, last_read_id, version, updated_at FROM timeline_markers"
        " WHERE account_id = $1 AND timeline = ANY($2::text[]) ORDER BY timeline",
        account_id,
        timelines,
    )
    return [Marker(*row) for row in rows]


async def set_marker(conn: Conn, *, account_id: int, timeline: str, last_read_id: str) -> Marker:
    """Store the position; each change counts one more version."""
    row = await conn.fetchrow(
        "INSERT INTO timeline_markers (account_id, timeline, last_read_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = EXCLUDED.last_read_id,"
        " version = timeline_markers.version + 1, updated_at = now()"
        " RETURNING timeline, last_read_id, version, updated_at",
        account_id,
        timeline,
        last_read_id,
    )
    assert row is not None  # noqa: S101 - RETURNING gives a row
    return Marker(*row)
