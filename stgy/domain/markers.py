"""Timeline markers: the last item a person read in their home timeline and notifications,
kept so that their apps open where they left off."""

from __future__ import annotations

from stgy.domain.errors import Invalid
from stgy.services import Services
from storage import markers as markers_sql
from storage.markers import Marker

TIMELINES = ("home", "notifications")
MAX_ID_LENGTH = 64


def check_timelines(names: list[str]) -> list[str]:
    """The timelines asked for, known ones only, each once (unknown names are ignored,
    as Mastodon does)."""
    return [name for name in TIMELINES if name in names]


async def get_markers(services: Services, account_id: int, timelines: list[str]) -> list[Marker]:
    wanted = check_timelines(timelines)
    if not wanted:
        return []
    async with services.pool.acquire() as conn:
        return await markers_sql.get_markers(conn, account_id=account_id, timelines=wanted)


async def set_markers(
    services: Services, account_id: int, positions: dict[str, str]
) -> list[Marker]:
    """Store the positions given (timeline -> last read id) in one transaction."""
    for timeline, last_read_id in positions.items():
        if timeline not in TIMELINES:
            raise Invalid("timeline", f"{timeline[:40]!r} is not one of {', '.join(TIMELINES)}")
        if not last_read_id or len(last_read_id) > MAX_ID_LENGTH or not last_read_id.isprintable():
            raise Invalid(f"{timeline}[last_read_id]", "must be an id")
    if not positions:
        raise Invalid("home[last_read_id]", "give a last_read_id for home or notifications")
    async with services.pool.acquire() as conn, conn.transaction():
        return [
            await markers_sql.set_marker(
                conn, account_id=account_id, timeline=timeline, last_read_id=last_read_id
            )
            for timeline, last_read_id in sorted(positions.items())
        ]
