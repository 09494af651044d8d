"""The outbox relay (inbox events enqueued by a worker on NOTIFY) and the inbox's key cache."""

from __future__ import annotations

import asyncio

from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.domain.jobs.relay import OutboxRelay
from stgy.domain.remote import remote_keys
from stgy.services import Services
from storage import inbox as inbox_sql
from storage import outbox as outbox_sql
from tests.conftest import make_user, wait_for
from tests.integration.test_inbox import activity_of, local_actor, make_remote, post_activity
from tests.integration.test_outbox import drain, forget_queue


async def _event_of(services: Services, activity_ap_id: str) -> dict[str, object]:
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT e.id, e.enqueued_at, e.done_at, a.processed_at FROM inbox_activities a"
            " JOIN outbox_events e ON e.kind = 'inbox.received'"
            " AND (e.payload ->> 'inbox_activity_id')::bigint = a.id WHERE a.ap_id = $1",
            activity_ap_id,
        )
    assert row is not None
    return dict(row)


async def _relayed_more_than(relay: OutboxRelay, count: int) -> None:
    async def more() -> bool:
        return relay.relayed > count

    await wait_for(more)


async def _inbox_events(services: Services) -> int:
    async with services.pool.acquire() as conn:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE kind = 'inbox.received'"
        )
    return n


async def test_inbox_events_wait_for_the_relay_then_are_enqueued_once(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    await drain(services)
    await forget_queue(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow) == 202
    event = await _event_of(services, follow["id"])
    # The request stored it and enqueued nothing.
    assert event["enqueued_at"] is None
    assert await services.jobs.depth() == 0

    first, second = OutboxRelay(services), OutboxRelay(services)
    taken = await asyncio.gather(first.relay_waiting(), second.relay_waiting())
    assert sorted(taken) == [0, 1]  # SKIP LOCKED: one relay takes it, the other nothing
    assert await services.jobs.depth() == 1
    assert (await _event_of(services, follow["id"]))["enqueued_at"] is not None
    assert await OutboxRelay(services).relay_waiting() == 0

    await drain(services)
    done = await _event_of(services, follow["id"])
    assert done["done_at"] is not None and done["processed_at"] is not None


async def test_a_listening_relay_enqueues_on_notify(
    client: Client, config: Config, services: Services
) -> None:
    await drain(services)
    user = await make_user(client)
    remote = await make_remote(services)
    # A poll interval far beyond the test: only the NOTIFY can wake it.
    relay = OutboxRelay(services, poll_seconds=3600)
    await relay.start()
    try:
        relayed = relay.relayed
        follow = activity_of(remote, "Follow", local_actor(config, user))
        assert await post_activity(client, config, remote, follow) == 202
        await _relayed_more_than(relay, relayed)
        assert relay.relayed == relayed + 1
        assert (await _event_of(services, follow["id"]))["enqueued_at"] is not None
    finally:
        await relay.stop()
    await drain(services)
    assert (await _event_of(services, follow["id"]))["processed_at"] is not None


async def test_the_relay_listens_again_after_losing_its_connection(
    client: Client, config: Config, services: Services
) -> None:
    await drain(services)
    user = await make_user(client)
    remote = await make_remote(services)
    relay = OutboxRelay(services, poll_seconds=3600)
    await relay.start()
    try:
        await asyncio.sleep(0.2)  # listening
        async with services.pool.acquire() as conn:
            ended = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query = $1",
                f'LISTEN "{outbox_sql.RELAY_CHANNEL}"',
            )
        assert ended == 1
        relayed = relay.relayed
        follow = activity_of(remote, "Follow", local_actor(config, user))
        assert await post_activity(client, config, remote, follow) == 202
        # Its poll is an hour: only listening again (and looking then) can relay it.
        await _relayed_more_than(relay, relayed)
        assert relay.relayed == relayed + 1
    finally:
        await relay.stop()
    await drain(services)


async def test_a_cached_key_does_not_get_past_a_block(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    remote_keys.forget_cached_keys()
    first = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, first) == 202
    assert remote.key_id in remote_keys._KEYS  # noqa: SLF001 - the cache is what is tested
    async with services.pool.acquire() as conn:
        await inbox_sql.set_blocked(conn, domain=remote.host, blocked=True)
    try:
        events_before = await _inbox_events(services)
        second = activity_of(remote, "Follow", local_actor(config, user))
        assert await post_activity(client, config, remote, second) == 403
        async with services.pool.acquire() as conn:
            n = await conn.fetchval(
                "SELECT count(*) FROM inbox_activities WHERE ap_id = $1", second["id"]
            )
        assert n == 0
        assert await _inbox_events(services) == events_before
    finally:
        async with services.pool.acquire() as conn:
            await inbox_sql.set_blocked(conn, domain=remote.host, blocked=False)


async def test_a_cached_key_that_stops_verifying_is_refetched(
    client: Client, config: Config, services: Services
) -> None:
    """The key in the cache no longer signs (rotated, and the new one is on the row):
    the check refetches, and with no actor to fetch it falls back to the row's key."""
    user = await make_user(client)
    remote = await make_remote(services)
    remote_keys.forget_cached_keys()
    assert await post_activity(client, config, remote, activity_of(remote, "Like", "x")) == 202
    rotated = await make_remote(services, host=remote.host)  # same actor, new key pair
    assert rotated.ap_id == remote.ap_id
    follow = activity_of(rotated, "Follow", local_actor(config, user))
    assert await post_activity(client, config, rotated, follow) == 202
    # The old key, still cached a moment ago, no longer verifies anything.
    stale = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, stale) == 401
