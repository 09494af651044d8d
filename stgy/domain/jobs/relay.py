"""The outbox relay: a worker's task that enqueues events the request path only recorded.

Most events are enqueued by the request that recorded them, right after its commit.
Durable jobs (deliveries and mails, stgy/domain/jobs/durable_jobs.py) always come this way.
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

from stgy.domain.jobs import durable_jobs, outbox
from stgy.services import Services
from storage import outbox as outbox_sql

log = logging.getLogger("stgy.outbox")

# Events taken per statement; a burst larger than this is taken in several.
BATCH = 500
# Seconds between looks when no notification comes (a lost connection, a missed NOTIFY).
POLL_SECONDS = 5.0
# Seconds to wait before listening again after a failure, doubling up to the most.
RECONNECT_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 30.0


class OutboxRelay:
    def __init__(self, services: Services, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self.relayed = 0
        self._wake = asyncio.Event()
        self._looked = False  # a look succeeded since the relay last listened
        self._task: asyncio.Task[None] | None = None

    async def relay_waiting(self) -> int:
        """Enqueue every event and durable job waiting for the relay; how many.

        What a look has taken (stamped as enqueued) it always enqueues, even when the
        relay is stopped meanwhile: stopping between the two would leave rows that
        look enqueued with no job, until the recovery loop's next sweep."""
        look = asyncio.ensure_future(self._relay_all())
        try:
            return await asyncio.shield(look)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await look
            raise

    async def _relay_all(self) -> int:
        total = 0
        while True:
            async with self.services.pool.acquire() as conn:
                ids = await outbox_sql.take_unrelayed(conn, limit=BATCH)
            await outbox.enqueue_events(self.services.jobs, ids)
            total += len(ids)
            if len(ids) < BATCH:
                break
        total += await durable_jobs.relay_waiting(self.services)
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
        """Listen and relay until cancelled; any failure (the database down, a timeout)
        is logged and the relay listens again after a growing wait, so it never dies."""
        wait = RECONNECT_SECONDS
        while True:
            conn: asyncpg.Connection | None = None
            # Else a success long ago would keep every wait of an outage at the first.
            self._looked = False
            try:
                conn = await outbox_sql.listen(self.services.config.database.url, self._wake.set)
                await self._relay_on_notice(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged; the sweeper covers meanwhile
                if self._looked:  # it worked for a while: start the waits over
                    wait = RECONNECT_SECONDS
                log.warning("relay_failed error=%r (listening again in %.0f s)", str(exc), wait)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(wait)
            wait = min(wait * 2, RECONNECT_MAX_SECONDS)

    async def _relay_on_notice(self, conn: asyncpg.Connection) -> None:
        while not conn.is_closed():
            # Cleared before looking, so a NOTIFY during the look wakes the next one.
            self._wake.clear()
            await self.relay_waiting()
            self._looked = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        raise asyncpg.InterfaceError("the listening connection was closed")
