"""Instances that fail for days: marked unavailable, skipped, probed on a slow schedule and
used again once they answer. A Mastodon-shaped loopback server plays the instance."""

from __future__ import annotations

import orjson
import pytest
from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.devservices import free_port
from stgy.domain.remote.delivery import DeliveryFailed, probe_unavailable_instances
from stgy.services import Services
from storage import deliveries as deliveries_sql
from tasks.context import JobContext
from tasks.delivery import deliver_activity
from tests.conftest import make_user
from tests.integration.test_delivery import (  # noqa: F401 - fixtures, injected by name
    RemoteInstance,
    account_id_of,
    fed_client,
    fed_config,
    fed_services,
    instance_of,
    remote,
)
from tests.integration.test_inbox_fetch import follow_of, send
from tests.integration.test_outbox import drain


async def _set_failing_for_days(services: Services, domain: str, days: int) -> None:
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO instances (domain, failures, failing_since)"
            " VALUES ($1, 40, now() - make_interval(days => $2))"
            " ON CONFLICT (domain) DO UPDATE SET failures = 40,"
            " failing_since = now() - make_interval(days => $2), unavailable_since = NULL",
            domain,
            days,
        )


async def test_instance_failing_for_days_is_skipped_until_it_answers_again(
    fed_client: Client,  # noqa: F811
    fed_config: Config,  # noqa: F811
    fed_services: Services,  # noqa: F811
    remote: RemoteInstance,  # noqa: F811
) -> None:
    user = await make_user(fed_client)
    actor_id = remote.add_actor("gina")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    assert await send(fed_client, fed_config, remote, "gina", follow_of(remote, "gina", target))
    sender_id = int(user.id)
    inbox = f"{actor_id}/inbox"
    shared = f"{remote.base}/inbox"  # followers' shared inbox stands for their own
    ctx: JobContext = {"services": fed_services}
    body = orjson.dumps({"id": f"{target}#test/1", "type": "Note"}).decode()
    await drain(fed_services)
    async with fed_services.pool.acquire() as conn:
        assert await deliveries_sql.follower_inboxes(conn, account_id=sender_id) == [shared]

    # A week of failures behind it, and this attempt fails too: now unavailable.
    await _set_failing_for_days(fed_services, remote.host, 8)
    remote.status = 503
    with pytest.raises(DeliveryFailed):
        await deliver_activity(
            ctx, sender_id=sender_id, inbox_url=inbox, activity_id=f"{target}#t1", body=body
        )
    instance = await instance_of(fed_services, remote.host)
    assert instance is not None and instance["unavailable_since"] is not None
    answered = len(remote.answered)

    # Skipped: no request made, and not chosen as a recipient any more.
    assert (
        await deliver_activity(
            ctx, sender_id=sender_id, inbox_url=inbox, activity_id=f"{target}#t2", body=body
        )
        == "skipped"
    )
    assert len(remote.answered) == answered
    async with fed_services.pool.acquire() as conn:
        assert await deliveries_sql.follower_inboxes(conn, account_id=sender_id) == []

    # The slow-schedule probe finds it answering: available again, deliveries resume.
    assert await probe_unavailable_instances(fed_services) >= 1
    instance = await instance_of(fed_services, remote.host)
    assert instance is not None
    assert instance["unavailable_since"] is None and instance["failures"] == 0
    async with fed_services.pool.acquire() as conn:
        assert await deliveries_sql.follower_inboxes(conn, account_id=sender_id) == [shared]
    remote.status = 202
    assert (
        await deliver_activity(
            ctx, sender_id=sender_id, inbox_url=inbox, activity_id=f"{target}#t3", body=body
        )
        == "delivered"
    )


async def test_a_short_outage_does_not_make_an_instance_unavailable(
    fed_client: Client,  # noqa: F811
    fed_config: Config,  # noqa: F811
    fed_services: Services,  # noqa: F811
    remote: RemoteInstance,  # noqa: F811
) -> None:
    user = await make_user(fed_client)
    actor_id = remote.add_actor("hank")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    ctx: JobContext = {"services": fed_services}
    await _set_failing_for_days(fed_services, remote.host, 2)
    remote.status = 503
    with pytest.raises(DeliveryFailed):
        await deliver_activity(
            ctx,
            sender_id=int(user.id),
            inbox_url=f"{actor_id}/inbox",
            activity_id=f"{target}#s1",
            body="{}",
        )
    instance = await instance_of(fed_services, remote.host)
    assert instance is not None and instance["unavailable_since"] is None


async def test_probe_leaves_a_silent_instance_unavailable(
    fed_services: Services,  # noqa: F811
) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    async with fed_services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO instances (domain, failures, failing_since, unavailable_since)"
            " VALUES ($1, 50, now() - interval '9 days', now() - interval '1 day')",
            dead,
        )
    await probe_unavailable_instances(fed_services)
    instance = await instance_of(fed_services, dead)
    assert instance is not None and instance["unavailable_since"] is not None
    assert instance["last_failure_at"] is not None
