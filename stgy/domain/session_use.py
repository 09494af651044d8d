"""When each login session was last used, and from where: recorded every few minutes.

Every authenticated request (web cookie or API token) reports its session here. A
process writes a session's use at most once per `EVERY_SECONDS` (it remembers when it
last did), and the statement itself refuses a write within that time of the stored one,
so several processes serving one browser still write once in that time: no write per
request.
"""

from __future__ import annotations

import time

from stgy.services import Services
from storage import sessions as sessions_sql

EVERY_SECONDS = 300.0
# Sessions this process recorded lately (session id -> monotonic time); forgotten whole
# past this size, which costs at most one extra no-op statement per session.
_MAX_REMEMBERED = 100_000
_recorded: dict[int, float] = {}


async def note_use(services: Services, session_id: int, ip: str) -> None:
    """Record that `session_id` was used now from `ip`, unless it was lately."""
    now = time.monotonic()
    last = _recorded.get(session_id)
    if last is not None and now - last < EVERY_SECONDS:
        return
    if len(_recorded) >= _MAX_REMEMBERED:
        _recorded.clear()
    _recorded[session_id] = now
    async with services.pool.acquire() as conn:
        await sessions_sql.note_session_use(
            conn, session_id=session_id, ip=ip, every_seconds=EVERY_SECONDS
        )


def forget_recorded() -> None:
    """Forget which uses this process recorded: the next request of each session asks
    the database again (tests use it to see a write without waiting)."""
    _recorded.clear()
