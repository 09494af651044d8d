"""The transactional outbox: record events with a change, enqueue after commit, apply once."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redis.exceptions import RedisError

from stgy.jobs import HANDLE_OUTBOX_EVENT, outbox_job_key
from stgy.logs import quote
from stgy.services import JobQueue, Services
from storage import outbox as outbox_sql
from storage.db import Conn
from storage.outbox import OutboxEvent

log = logging.getLogger("stgy.outbox")

# An event's job is enqueued right after the commit that recorded it (or by the relay
# within milliseconds); one without a job in the queue for this long was lost.
LOST_AFTER_SECONDS = 3.0

# Handlers apply one event inside the transaction that marks it done, so their
# database effects happen exactly once however often the job runs. Several
# modules may subscribe to one kind (fan-out, notifications, delivery...).
EventHandler = Callable[[Conn, OutboxEvent, Services], Awaitable[None]]
HANDLERS: dict[str, list[EventHandler]] = {}

# Every kind domain code records; an event of a kind with no handler yet is
# simply done. Payloads carry ids only: handlers read the current rows.
KINDS = frozenset(
    {
        "account.created",  # {account_id}: a local user registered
        "account.updated",  # {account_id}
        "account.deleted",  # {account_id}
        "post.created",  # {post_id}: a new post or share of a local or remote account
        "post.updated",  # {post_id}
        "post.deleted",  # {post_id}
        "post.liked",  # {post_id, account_id}
        "post.unliked",  # {post_id, account_id, like_ap_id?}
        "account.blocked",  # {account_id, target_id}
        "account.unblocked",  # {account_id, target_id, block_ap_id?}
        "follow.requested",  # {follower_id, followee_id}: pending approval
        "follow.accepted",  # {follower_id, followee_id}
        "follow.removed",  # {follower_id, followee_id, state, rejected?}: unfollow, reject, block
        "inbox.received",  # {inbox_activity_id}: an activity taken in, to apply
        "media.uploaded",  # {media_id}: an upload waiting for its renditions
    }
)


class UnknownEventKind(Exception):
    """An event of a kind that is neither declared nor handled."""


class EventMissing(Exception):
    """A job for an event this database never had: the job is another instance's (two
    instances sharing a queue), and must fail loudly rather than finish as done."""

    def __init__(self, event_id: int, database_url: str) -> None:
        database = database_url.rsplit("/", 1)[-1].split("?", 1)[0]
        super().__init__(f"event {event_id} is not in database {database!r}")


def handles(kind: str, *, first: bool = False) -> Callable[[EventHandler], EventHandler]:
    """Subscribe a handler to an event kind; `first` runs it before the others (for a
    handler that must read rows the others remove, such as the followers to notify)."""

    def register(handler: EventHandler) -> EventHandler:
        subscribers = HANDLERS.setdefault(kind, [])
        if handler in subscribers:
            return handler
        if first:
            subscribers.insert(0, handler)
        else:
            subscribers.append(handler)
        return handler

    return register


async def record_event(conn: Conn, kind: str, payload: dict[str, Any]) -> int:
    """Write an event in the caller's transaction; enqueue it with `enqueue_events` after commit."""
    if kind not in KINDS and kind not in HANDLERS:
        raise UnknownEventKind(kind)
    return await outbox_sql.insert_event(conn, kind=kind, payload=payload)


async def enqueue_events(jobs: JobQueue, event_ids: Iterable[int]) -> None:
    """Enqueue the jobs for committed events; if Redis is down, the sweeper catches up.

    Never raises for Redis: the change is committed, so the request that made it
    succeeds (a post written while Redis restarts is a 201, fanned out later)."""
    for event_id in event_ids:
        try:
            await jobs.enqueue(HANDLE_OUTBOX_EVENT, key=outbox_job_key(event_id), event_id=event_id)
        except (RedisError, OSError) as exc:
            log.warning("event=%s enqueue_failed=%r (sweeper will retry)", event_id, str(exc))


DONE = "done"
SKIPPED = "skipped"
DEAD_LETTERED = "dead_lettered"
# Why an event stopped when its last attempt never came back to say how it went.
UNFINISHED = "its last attempt did not finish (it timed out, or its worker was lost)"


def describe_error(exc: BaseException) -> str:
    """What an operator needs of a failure: its type and message on the first line (the
    one `stgy jobs failed` shows), then where it was raised (the traceback's end)."""
    first = f"{type(exc).__name__}: {exc}".strip().rstrip(":").splitlines()[0]
    trace = "".join(traceback.format_exception(exc)).rstrip()
    return f"{first}\n{trace[-1500:]}"


async def handle_event(services: Services, event_id: int) -> str:
    """Apply one event exactly once. Returns DONE; SKIPPED if already done, failed or
    busy; DEAD_LETTERED when this was its last attempt (`jobs.max_attempts`) and it
    failed, or the last one never finished: it is kept failed with its error and never
    enqueued again (stgy.domain.dead_letters). Other failures are raised, so SAQ
    retries with backoff (and the sweep after SAQ's retries)."""
    max_attempts = services.config.jobs.max_attempts
    async with services.pool.acquire() as conn:
        attempt = await outbox_sql.begin_attempt(conn, event_id=event_id, max_attempts=max_attempts)
        if attempt is None:
            if not await outbox_sql.event_exists(conn, event_id=event_id):
                raise EventMissing(event_id, services.config.database.url)
            return SKIPPED
        if not attempt.begun:
            earlier = (
                f"\nthe last error recorded: {attempt.last_error}" if attempt.last_error else ""
            )
            error = f"{UNFINISHED}{earlier}"
            await outbox_sql.record_failure(conn, event_id=event_id, error=error, dead=True)
            _log_dead_letter(event_id, attempt.kind, attempt.attempts, error)
            return DEAD_LETTERED
        try:
            async with conn.transaction():
                event = await outbox_sql.claim_event(conn, event_id=event_id)
                if event is None:
                    return SKIPPED
                handlers = HANDLERS.get(event.kind)
                if handlers is None and event.kind not in KINDS:
                    raise UnknownEventKind(event.kind)
                for handler in handlers or []:
                    await handler(conn, event, services)
                await outbox_sql.mark_done(conn, event_id=event_id)
        except Exception as exc:
            # Recorded for operators; then the last attempt makes a dead letter, any
            # other is raised again so that SAQ retries with backoff.
            error = describe_error(exc)
            dead = attempt.attempts >= max_attempts
            await outbox_sql.record_failure(conn, event_id=event_id, error=error, dead=dead)
            if not dead:
                raise
            _log_dead_letter(event_id, attempt.kind, attempt.attempts, error)
            return DEAD_LETTERED
    return DONE


def _log_dead_letter(event_id: int, kind: str, attempts: int, error: str) -> None:
    log.warning(
        "event=%d kind=%s outcome=dead_lettered attempts=%d error=%s",
        event_id,
        quote(kind),
        attempts,
        quote(error.splitlines()[0][:300]),
    )


async def sweep(
    services: Services,
    *,
    retry_after_seconds: float,
    idle_seconds: float = LOST_AFTER_SECONDS,
    batch: int = 1000,
) -> int:
    """Re-enqueue every event that is not done and has no job left in the queue (lost
    with Redis, or given up after its retries): those idle for `idle_seconds`, or for
    `retry_after_seconds` when their last attempt failed. Dead letters never (they
    wait for an admin). How many were re-enqueued."""
    total = 0
    after_id = 0
    while True:
        async with services.pool.acquire() as conn:
            ids = await outbox_sql.unfinished_events(
                conn,
                idle_seconds=idle_seconds,
                retry_after_seconds=retry_after_seconds,
                after_id=after_id,
                limit=batch,
            )
        if not ids:
            break
        queued = await services.jobs.unfinished([outbox_job_key(i) for i in ids])
        lost = [i for i in ids if outbox_job_key(i) not in queued]
        if lost:
            async with services.pool.acquire() as conn:
                lost = await outbox_sql.stamp_enqueued(conn, event_ids=lost)
            await enqueue_events(services.jobs, lost)
            total += len(lost)
        if len(ids) < batch:
            break
        after_id = ids[-1]
    if total:
        log.info("outbox_sweep re_enqueued=%d", total)
    return total
