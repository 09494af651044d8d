"""Dead letters: outbox events that failed every attempt, kept for an admin to retry or
discard (`stgy jobs`, docs/operations.md).

An event is applied by its job (stgy.domain.jobs.outbox.handle_event); after
`jobs.max_attempts` attempts that failed (or never finished) it is marked failed with
its error instead of being tried again and again: the sweep never enqueues it, so one
activity a bug cannot apply costs the workers a few attempts, not a share of their
time for ever. Retrying gives it all its attempts again; discarding marks it done
without applying it (an inbox activity is then marked as not applied, with why).
Each is an admin action, in the audit log.
"""

from __future__ import annotations

from stgy.domain import audit, roles
from stgy.domain.errors import NotFound
from stgy.domain.jobs import outbox
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import dead_letters as dead_sql
from storage import inbox as inbox_sql
from storage.dead_letters import DeadLetter

__all__ = ["DeadLetter", "discard", "kinds", "list_failed", "retry"]

MAX_LIST = 1000


def kinds() -> list[str]:
    """Every kind an event may have, for figures shown even when zero."""
    return sorted(outbox.KINDS | set(outbox.HANDLERS))


async def list_failed(services: Services, staff: Staff, *, limit: int = 100) -> list[DeadLetter]:
    """Dead letters, the newest first."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn:
        return await dead_sql.list_dead_letters(conn, limit=max(1, min(limit, MAX_LIST)))


def _first_line(error: str) -> str:
    return error.splitlines()[0] if error else ""


async def retry(services: Services, staff: Staff, event_id: int) -> DeadLetter:
    """Make a dead letter pending again, with all its attempts, and enqueue its job."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn, conn.transaction():
        letter = await dead_sql.revive(conn, event_id=event_id)
        if letter is None:
            raise NotFound(f"no dead letter with id {event_id}")
        await audit.record(
            conn,
            staff,
            "dead_letter.retry",
            "outbox_event",
            event_id,
            details={"kind": letter.kind, "attempts": letter.attempts},
        )
    # After the commit; if Redis is away, the sweep enqueues it once it is back.
    await outbox.enqueue_events(services.jobs, [event_id])
    return letter


async def discard(services: Services, staff: Staff, event_id: int) -> DeadLetter:
    """Give up on a dead letter: marked done without being applied."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn, conn.transaction():
        letter = await dead_sql.discard(conn, event_id=event_id)
        if letter is None:
            raise NotFound(f"no dead letter with id {event_id}")
        activity_id = letter.payload.get("inbox_activity_id")
        if letter.kind == "inbox.received" and isinstance(activity_id, int):
            reason = f"discarded after {letter.attempts} failed attempts: "
            await inbox_sql.mark_processed(
                conn, activity_id=activity_id, error=reason + _first_line(letter.error)
            )
        await audit.record(
            conn,
            staff,
            "dead_letter.discard",
            "outbox_event",
            event_id,
            details={"kind": letter.kind, "error": _first_line(letter.error)[:300]},
        )
    return letter
