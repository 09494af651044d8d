"""Deliveries and mails are kept in PostgreSQL until they have run: a Redis that loses its
data (restart without persistence, flush) loses none of them, and none is sent twice."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy import metrics
from stgy.config import Config
from stgy.domain.jobs import durable_jobs
from stgy.jobs import DELIVER_ACTIVITY, SEND_MAIL, delivery_job_key
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.mail_support import read_spool
from tests.integration.test_delivery import (
    RemoteInstance,
    accept_id_of,
    accepts_of,
    fed_client,
    fed_config,
    fed_services,
    remote,
)
from tests.integration.test_inbox_fetch import follow_of, send
from tests.integration.test_outbox import drain, forget_queue


def sends() -> float:
    """`send_mail` jobs run to completion in this process (the drains' workers)."""
    value: float = metrics.JOBS.labels(SEND_MAIL, "complete")._value.get()
    return value


async def recorded(services: Services, function: str) -> list[str]:
    async with services.pool.acquire() as conn:
        rows = await conn.fetch("SELECT key FROM durable_jobs WHERE function = $1", function)
    return [row["key"] for row in rows]


async def test_a_delivery_waiting_for_its_retry_survives_a_lost_queue(
    fed_client: Client, fed_config: Config, fed_services: Services, remote: RemoteInstance
) -> None:
    user = await make_user(fed_client)
    remote.add_actor("gina")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    follow = follow_of(remote, "gina", target)
    remote.status = 503  # the follower's server is down: the Accept waits for a retry
    assert await send(fed_client, fed_config, remote, "gina", follow) == 202
    await drain(fed_services)
    assert remote.answered and set(remote.answered) == {503}
    key = delivery_job_key(
        await accept_id_of(fed_services, target, follow["actor"]), f"{follow['actor']}/inbox"
    )
    assert key in await recorded(fed_services, DELIVER_ACTIVITY)
    assert key in await fed_services.jobs.unfinished([key])

    # Redis comes back empty: the retry it held is gone, the record is not.
    await forget_queue(fed_services)
    assert await fed_services.jobs.unfinished([key]) == set()
    assert await durable_jobs.sweep(fed_services, idle_seconds=0) >= 1
    # Its job waits again: a second look enqueues nothing more.
    assert key in await fed_services.jobs.unfinished([key])
    assert await durable_jobs.sweep(fed_services, idle_seconds=0) == 0

    remote.status = 202
    await drain(fed_services)
    [accept] = accepts_of(remote)
    assert accept.error is None and accept.activity["object"] == follow["id"]
    # Delivered, so forgotten: nothing is left to send again.
    assert key not in await recorded(fed_services, DELIVER_ACTIVITY)
    assert await durable_jobs.sweep(fed_services, idle_seconds=0) == 0


async def test_a_mail_survives_a_lost_queue_and_is_sent_once(
    client: Client, services: Services, config: Config
) -> None:
    user = await make_user(client)
    spool = config.path(config.mail.spool_path)
    before = {m["Message-ID"] for m in read_spool(spool)} if spool.exists() else set()
    response = await client.post("/api/auth/password-reset", json={"handle": user.handle})
    assert response.status_code == 202
    [key] = [k for k in await recorded(services, SEND_MAIL) if k not in before]
    sends_before = sends()

    # Enqueued by the relay after the commit; then Redis loses it before any worker ran.
    assert await durable_jobs.relay_waiting(services) >= 1
    assert key in await services.jobs.unfinished([key])
    await forget_queue(services)
    assert await durable_jobs.sweep(services, idle_seconds=0) >= 1
    assert await durable_jobs.sweep(services, idle_seconds=0) == 0
    await drain(services)

    sent = [m for m in read_spool(spool) if m["Message-ID"] not in before]
    assert len(sent) == 1 and sent[0]["To"] == f"{user.handle}@example.com"
    # The spool keeps one file per Message-ID whatever happens: count the sends instead.
    assert sends() == sends_before + 1
    assert key not in await recorded(services, SEND_MAIL)
