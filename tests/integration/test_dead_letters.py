"""Poison stops (issue 15, case 2): an event that fails every attempt becomes a dead letter.

The poison is an inbox activity this version can never apply: a Create of a Note
without an id. The inbox refuses it now, so it is stored as an older version did (the
raw row and its `inbox.received` event, written by the storage layer), and then the
real worker, sweep, metrics and CLI take it from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from federation.vocab import PUBLIC
from stgy.config import Config, ConfigError, JobsConfig, load_config
from stgy.domain.jobs import outbox
from stgy.jobs import outbox_job_key
from stgy.services import Services
from storage import inbox as inbox_sql
from storage.db import Conn
from storage.outbox import OutboxEvent
from tasks.recovery import RecoveryLoop
from tests.conftest import config_env, make_user
from tests.integration.test_cli import stgy
from tests.integration.test_inbox import (
    Remote,
    activity_of,
    local_actor,
    make_remote,
    post_activity,
    stored,
)
from tests.integration.test_outbox import drain, forget_queue

HANG_KIND = "test.hang"
FLAKY_KIND = "test.flaky"
# Whether the "bug" FLAKY_KIND's handler stands for is still there.
FLAKY_BROKEN = [True]
HANG_ENTERED = asyncio.Event()


@outbox.handles(HANG_KIND)
async def hang(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """An attempt that never ends by itself (SAQ's timeout, or a worker killed, ends it)."""
    HANG_ENTERED.set()
    await asyncio.Event().wait()


@outbox.handles(FLAKY_KIND)
async def flaky(conn: Conn, event: OutboxEvent, services: Services) -> None:
    if FLAKY_BROKEN[0]:
        raise RuntimeError("the bug in this version")


@pytest.fixture
async def clean_outbox(services: Services) -> None:
    """No event or job of other tests: the counts below are this test's."""
    async with services.pool.acquire() as conn:
        await conn.execute("DELETE FROM outbox_events")
    await forget_queue(services)


def with_max_attempts(services: Services, n: int) -> Services:
    jobs = JobsConfig(max_attempts=n)
    return replace(services, config=replace(services.config, jobs=jobs))


def poison_activity(remote: Remote) -> dict[str, Any]:
    note = {"type": "Note", "attributedTo": remote.ap_id, "content": "<p>x</p>", "to": [PUBLIC]}
    return activity_of(remote, "Create", note)


async def store_poison(services: Services, remote: Remote) -> tuple[dict[str, Any], int, int]:
    """Store the poison as an older version's inbox did; (activity, its row, its event)."""
    activity = poison_activity(remote)
    async with services.pool.acquire() as conn:
        taken = await inbox_sql.take_activity(
            conn,
            ap_id=activity["id"],
            actor_id=remote.ap_id,
            type="Create",
            raw_json=json.dumps(activity),
            domains=[remote.host],
        )
    assert taken.activity_id is not None and taken.event_id is not None
    return activity, taken.activity_id, taken.event_id


async def event_row(services: Services, event_id: int) -> Any:
    async with services.pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM outbox_events WHERE id = $1", event_id)


def dead_letter_gauge(body: str, kind: str) -> float:
    found = re.search(rf'^stgy_dead_letters{{kind="{re.escape(kind)}"}} (\S+)$', body, re.M)
    assert found is not None, body
    return float(found.group(1))


async def test_a_poison_activity_stops_after_its_attempts_and_other_work_flows(
    client: Client, config: Config, services: Services, clean_outbox: None
) -> None:
    svc = with_max_attempts(services, 3)
    user, other = await make_user(client), await make_user(client)
    remote = await make_remote(services)
    # This version refuses the poison at the inbox; an older one stored it.
    assert await post_activity(client, config, remote, poison_activity(remote)) != 202
    poison, _, event_id = await store_poison(services, remote)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow) == 202

    await drain(svc)
    row = await event_row(services, event_id)
    assert row["attempts"] >= 1 and row["done_at"] is None
    assert row["last_error"].startswith("AssertionError")
    assert (await stored(services, follow))["processed_at"] is not None  # not held up

    # SAQ's retries run out (or Redis loses them): the sweep enqueues it again, until
    # its third attempt has failed, and from then on never.
    rounds = 0
    while (await event_row(services, event_id))["failed_at"] is None:
        rounds += 1
        assert rounds <= 3, "the poison was never dead-lettered"
        await forget_queue(svc)
        assert await outbox.sweep(svc, retry_after_seconds=0, idle_seconds=0) == 1
        await drain(svc)
    row = await event_row(services, event_id)
    assert row["attempts"] == 3 and row["done_at"] is None
    first_line, *trace = row["last_error"].splitlines()
    assert first_line == "AssertionError"
    assert any("inbox_apply.py" in line and "apply_create" in line for line in trace)
    # Not applied: left for the admin.
    assert (await stored(services, poison))["processed_at"] is None

    await forget_queue(svc)
    assert await outbox.sweep(svc, retry_after_seconds=0, idle_seconds=0) == 0
    # The worker's own recovery look leaves it too (what else it finds, left by other
    # tests on this database, is not this test's to count).
    await RecoveryLoop(svc, "sweeper").tick()
    assert await svc.jobs.unfinished([outbox_job_key(event_id)]) == set()
    # A job for it still about (enqueued before it failed) does nothing.
    assert await outbox.handle_event(svc, event_id) == outbox.SKIPPED
    assert (await event_row(services, event_id))["attempts"] == 3

    # Other work keeps flowing, and the backlog does not count the dead letter.
    again = activity_of(remote, "Follow", local_actor(config, other))
    assert await post_activity(client, config, remote, again) == 202
    await drain(svc)
    assert (await stored(services, again))["processed_at"] is not None

    body = await (await client.get("/metrics")).get_data(as_text=True)
    assert dead_letter_gauge(body, "inbox.received") == 1
    assert dead_letter_gauge(body, "post.created") == 0
    assert re.search(r"^stgy_outbox_pending 0\.0$", body, re.M), body


async def test_attempts_that_never_finish_count_too(services: Services, clean_outbox: None) -> None:
    """An attempt cut off (SAQ's timeout cancels it; a killed worker just stops) raises
    nothing to record, yet counts: the event stops all the same."""
    svc = with_max_attempts(services, 3)
    async with services.pool.acquire() as conn, conn.transaction():
        event_id = await outbox.record_event(conn, HANG_KIND, {})
    for _ in range(3):
        HANG_ENTERED.clear()
        attempt = asyncio.create_task(outbox.handle_event(svc, event_id))
        await asyncio.wait_for(HANG_ENTERED.wait(), 10)
        attempt.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await attempt
    row = await event_row(services, event_id)
    assert row["attempts"] == 3 and row["failed_at"] is None
    assert await outbox.handle_event(svc, event_id) == outbox.DEAD_LETTERED
    row = await event_row(services, event_id)
    assert row["attempts"] == 3 and row["failed_at"] is not None
    assert row["last_error"].startswith(outbox.UNFINISHED)
    assert await outbox.sweep(svc, retry_after_seconds=0, idle_seconds=0) == 0


def test_max_attempts_is_a_config_key() -> None:
    assert load_config(environ={}).jobs.max_attempts == 8
    assert load_config(environ={"STGY_JOBS_MAX_ATTEMPTS": "3"}).jobs.max_attempts == 3
    with pytest.raises(ConfigError, match="max_attempts"):
        load_config(environ={"STGY_JOBS_MAX_ATTEMPTS": "0"})


async def test_cli_lists_retries_and_discards_dead_letters(
    services: Services, database_url: str, tmp_root: Path, clean_outbox: None
) -> None:
    svc = with_max_attempts(services, 2)
    env = config_env(database_url, tmp_root)

    async def cli(*args: str) -> Any:
        return await asyncio.to_thread(stgy, "jobs", *args, env=env)

    listed = await cli("failed")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "no failed jobs"

    FLAKY_BROKEN[0] = True
    async with services.pool.acquire() as conn, conn.transaction():
        flaky_id = await outbox.record_event(conn, FLAKY_KIND, {})
    with pytest.raises(RuntimeError):
        await outbox.handle_event(svc, flaky_id)
    assert await outbox.handle_event(svc, flaky_id) == outbox.DEAD_LETTERED
    remote = await make_remote(services)
    _, activity_id, poison_id = await store_poison(services, remote)
    with pytest.raises(AssertionError):
        await outbox.handle_event(svc, poison_id)
    assert await outbox.handle_event(svc, poison_id) == outbox.DEAD_LETTERED

    listed = await cli("failed")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "kind", "attempts", "failed_at", "error"]
    rows = {int(line.split()[0]): line.split(None, 4) for line in lines[1:]}
    assert set(rows) == {flaky_id, poison_id}
    assert rows[flaky_id][1:3] == [FLAKY_KIND, "2"]
    assert rows[flaky_id][4] == "RuntimeError: the bug in this version"
    assert rows[poison_id][1:3] == ["inbox.received", "2"]
    assert rows[poison_id][4] == "AssertionError"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[poison_id][3])
    full = await cli("failed", "--full")
    assert "Traceback" in full.stdout and "inbox_activity_id" in full.stdout

    missing = await cli("retry", "12345")
    assert missing.returncode == 1 and "no dead letter with id 12345" in missing.stderr
    assert (await cli("discard", "12345")).returncode == 1

    # The bug is fixed (a new version): the admin retries, and the event is applied.
    FLAKY_BROKEN[0] = False
    retried = await cli("retry", str(flaky_id))
    assert retried.returncode == 0, retried.stderr
    row = await event_row(services, flaky_id)
    assert row["failed_at"] is None and row["attempts"] == 0 and row["done_at"] is None
    assert await services.jobs.unfinished([outbox_job_key(flaky_id)]) == {outbox_job_key(flaky_id)}
    await drain(svc)
    row = await event_row(services, flaky_id)
    assert row["done_at"] is not None and row["attempts"] == 1
    assert (await cli("retry", str(flaky_id))).returncode == 1  # no longer a dead letter

    # The poison is given up: done, never applied, and its activity says why.
    discarded = await cli("discard", str(poison_id))
    assert discarded.returncode == 0, discarded.stderr
    row = await event_row(services, poison_id)
    assert row["done_at"] is not None and row["failed_at"] is not None
    async with services.pool.acquire() as conn:
        activity = await inbox_sql.get_activity(conn, activity_id=activity_id)
        audit = await conn.fetch(
            "SELECT actor, action, target FROM audit_log WHERE target_type = 'outbox_event'"
            " AND target = ANY($1::text[]) ORDER BY id",
            [str(flaky_id), str(poison_id)],
        )
    assert activity is not None and activity.processed_at is not None
    assert activity.error == "discarded after 2 failed attempts: AssertionError"
    assert [tuple(r) for r in audit] == [
        ("cli", "dead_letter.retry", str(flaky_id)),
        ("cli", "dead_letter.discard", str(poison_id)),
    ]
    assert (await cli("failed")).stdout.strip() == "no failed jobs"
    assert await outbox.sweep(svc, retry_after_seconds=0, idle_seconds=0) == 0
