"""The outbox relay: a worker's task that enqueues events the request path only recorded.

Most events are enqueued by the request that recorded them, right after its commit.
Events from the inbox are not: the inbox answers a flood of POSTs from other servers,
and a Redis enqueue per activity was an eighth of its time. It writes the event with
`enqueued_at` NULL and a NOTIFY (storage.inbox.take_activity); every worker LISTENs,
and on each notification (and on start, and every `POLL_SECONDS` in case one was
missed) takes the waiting events in id order (SKIP LOCKED, stamping them) and
enqueues their jobs. Should a worker die between stamping and enqueueing, the
sweeper re-enqueues the event after `worker.outbox_retry_after` as for any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from stgy.domain import outbox
from stgy.services import Services
from storage import outbox as outbox_sql

log = logging.getLogger("stgy.outbox")

# Events taken per statement; a burst larger than this is taken in several.
BATCH = 500
# Seconds between looks when no notification comes (a lost connection, a missed NOTIFY).
POLL_SECONDS = 5.0
# Seconds to wait before listening again after the connection failed.
RECONNECT_SECONDS = 1.0


class OutboxRelay:
    def __init__(self, services: Services, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self.relayed = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def relay_waiting(self) -> int:
        """Enqueue every event waiting for the relay; how many."""
        total = 0
        while True:
            async with self.services.pool.acquire() as conn:
                ids = await outbox_sql.take_unrelayed(conn, limit=BATCH)
            await outbox.enqueue_events(self.services.jobs, ids)
            total += len(ids)
            if len(ids) < BATCH:
                break
        self.relayed += total
        return total

    async def start(self) -> None:
        """Relay what waits now (before the worker takes jobs), then listen in a task."""
        await self.relay_waiting()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                conn = await outbox_sql.listen(self.services.config.database.url, self._wake.set)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("relay_listen_failed error=%r", str(exc))
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                await self._relay_on_notice(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("relay_failed error=%r (listening again)", str(exc))
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await asyncio.shield(conn.close(timeout=2))

    async def _relay_on_notice(self, conn: asyncpg.Connection) -> None:
        while not conn.is_closed():
            # Cleared before looking, so a NOTIFY during the look wakes the next one.
            self._wake.clear()
            await self.relay_waiting()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        raise asyncpg.InterfaceError("the listening connection was closed")
