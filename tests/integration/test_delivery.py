"""Answering remote follows: a Mastodon-shaped server on loopback follows local accounts and
receives our signed Accept or Reject at its inbox; failed deliveries are retried."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart, Response, request
from quart.typing import TestClientProtocol as Client

from federation import signatures
from federation.httpsig import SignatureError
from stgy.app import create_app
from stgy.config import Config, load_config
from stgy.devservices import free_port
from stgy.jobs import DELIVER_ACTIVITY, delivery_job_key
from stgy.services import Services
from storage import follows as follows_sql
from tasks.context import JobContext
from tasks.delivery import deliver_activity
from tests.conftest import config_env, make_user
from tests.integration.test_inbox_fetch import RemoteServer, follow_of, send
from tests.integration.test_outbox import drain

AS = "https://www.w3.org/ns/activitystreams"


@dataclass
class Received:
    activity: dict[str, Any]
    key_id: str | None  # the verified signature's key id; None when it did not verify
    error: str | None


@dataclass
class RemoteInstance(RemoteServer):
    """Serves actors' documents and takes POSTs at their inboxes, checking signatures."""

    status: int = 202
    received: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)


@pytest.fixture
async def fed_config(database_url: str, tmp_root: Path) -> Config:
    return load_config(
        environ=config_env(database_url, tmp_root, STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true")
    )


@pytest.fixture
async def fed_client(fed_config: Config) -> AsyncIterator[Client]:
    app = create_app(fed_config)
    async with app.test_app():
        yield app.test_client()


@pytest.fixture
async def fed_services(fed_config: Config) -> AsyncIterator[Services]:
    started = await Services.start(fed_config)
    yield started
    await started.close()


@pytest.fixture
async def remote(fed_services: Services) -> AsyncIterator[RemoteInstance]:
    port = free_port()
    server = RemoteInstance(f"http://127.0.0.1:{port}")
    app = Quart("remote")

    async def our_key(key_id: str, refresh: bool) -> str | None:
        # The local account's public key, as our /users/{handle} document serves it.
        async with fed_services.pool.acquire() as conn:
            pem: str | None = await conn.fetchval(
                "SELECT public_key_pem FROM accounts WHERE public_key_id = $1", key_id
            )
        return pem

    @app.get("/users/<handle>")
    async def actor(handle: str) -> Response:
        if handle not in server.actors:
            return Response("", status=404)
        return Response(
            orjson.dumps(server.actors[handle]), content_type="application/activity+json"
        )

    @app.post("/users/<handle>/inbox")
    async def inbox(handle: str) -> Response:
        body = await request.get_data()
        server.answered.append(server.status)
        if server.status >= 300:
            return Response("", status=server.status)
        try:
            verified = await signatures.verify_request(
                request.method,
                request.full_path.rstrip("?"),
                list(request.headers.items()),
                body,
                our_key,
                now=datetime.now(UTC),
                scheme="http",
            )
        except SignatureError as exc:
            server.received.append(Received(orjson.loads(body), None, exc.reason))
            return Response("", status=401)
        server.received.append(Received(orjson.loads(body), verified.key_id, None))
        return Response("", status=server.status)

    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    async with httpx.AsyncClient() as probe:
        for _ in range(100):
            try:
                await probe.get(f"{server.base}/users/none")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    yield server
    stop.set()
    await task


async def account_id_of(services: Services, ap_id: str) -> int:
    async with services.pool.acquire() as conn:
        found: int = await conn.fetchval("SELECT id FROM accounts WHERE ap_id = $1", ap_id)
    return found


async def accept_id_of(services: Services, target: str, follower_ap_id: str) -> str:
    """The id of the Accept sent for a follower's follow (it names the accepting event)."""
    follower_id = await account_id_of(services, follower_ap_id)
    async with services.pool.acquire() as conn:
        event_id = await conn.fetchval(
            "SELECT max(id) FROM outbox_events WHERE kind = 'follow.accepted'"
            " AND (payload->>'follower_id')::bigint = $1",
            follower_id,
        )
    return f"{target}#accepts/follows/{follower_id}/{event_id}"


async def instance_of(services: Services, domain: str) -> dict[str, Any] | None:
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT failures, last_failure_at, last_success_at, signature_scheme,"
            " failing_since, unavailable_since"
            " FROM instances WHERE domain = $1",
            domain,
        )
    return dict(row) if row else None


def accepts_of(remote: RemoteInstance, kind: str = "Accept") -> list[Received]:
    return [r for r in remote.received if r.activity.get("type") == kind]


async def test_auto_accepted_follow_is_answered_with_a_signed_accept(
    fed_client: Client, fed_config: Config, fed_services: Services, remote: RemoteInstance
) -> None:
    user = await make_user(fed_client)
    actor_id = remote.add_actor("bob")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    follow = follow_of(remote, "bob", target)
    assert await send(fed_client, fed_config, remote, "bob", follow) == 202
    await drain(fed_services)

    [accept] = accepts_of(remote)
    assert accept.error is None and accept.key_id == f"{target}#main-key"
    follower_id = await account_id_of(fed_services, actor_id)
    assert accept.activity["id"].startswith(f"{target}#accepts/follows/{follower_id}/")
    assert accept.activity == {
        "@context": AS,
        "id": accept.activity["id"],
        "type": "Accept",
        "actor": target,
        "object": follow["id"],
    }
    instance = await instance_of(fed_services, remote.host)
    assert instance is not None
    assert instance["failures"] == 0 and instance["last_success_at"] is not None
    assert instance["signature_scheme"] == "cavage"


async def test_locked_account_accepts_later_and_the_accept_is_delivered(
    fed_client: Client, fed_config: Config, fed_services: Services, remote: RemoteInstance
) -> None:
    owner = await make_user(fed_client, locked=True)
    actor_id = remote.add_actor("carol")
    target = f"{fed_config.instance.base_url}/users/{owner.handle}"
    follow = follow_of(remote, "carol", target)
    assert await send(fed_client, fed_config, remote, "carol", follow) == 202
    await drain(fed_services)
    assert remote.received == []  # pending: nothing is answered yet
    follower_id = await account_id_of(fed_services, actor_id)

    response = await fed_client.post(
        f"/api/follow_requests/{follower_id}/accept", headers=owner.auth
    )
    assert response.status_code < 300
    await drain(fed_services)

    [accept] = accepts_of(remote)
    assert accept.key_id == f"{target}#main-key"
    assert accept.activity["actor"] == target and accept.activity["object"] == follow["id"]
    async with fed_services.pool.acquire() as conn:
        found = await follows_sql.get_follow(
            conn, follower_id=follower_id, followee_id=int(owner.id)
        )
    assert found is not None and found.state == "accepted"


async def test_rejected_request_is_answered_with_reject_and_an_undo_is_not(
    fed_client: Client, fed_config: Config, fed_services: Services, remote: RemoteInstance
) -> None:
    owner = await make_user(fed_client, locked=True)
    actor_id = remote.add_actor("dave")
    target = f"{fed_config.instance.base_url}/users/{owner.handle}"
    assert await send(fed_client, fed_config, remote, "dave", follow_of(remote, "dave", target))
    await drain(fed_services)
    follower_id = await account_id_of(fed_services, actor_id)
    response = await fed_client.post(
        f"/api/follow_requests/{follower_id}/reject", headers=owner.auth
    )
    assert response.status_code < 300
    await drain(fed_services)

    [reject] = accepts_of(remote, "Reject")
    assert reject.key_id == f"{target}#main-key"
    assert reject.activity["actor"] == target
    assert reject.activity["object"] == {"type": "Follow", "actor": actor_id, "object": target}

    # The follower withdrawing its own request is not answered.
    follow = follow_of(remote, "dave", target)
    assert await send(fed_client, fed_config, remote, "dave", follow) == 202
    undo = {
        "@context": AS,
        "id": f"{follow['id']}/undo",
        "type": "Undo",
        "actor": actor_id,
        "object": follow,
    }
    assert await send(fed_client, fed_config, remote, "dave", undo) == 202
    await drain(fed_services)
    assert len(accepts_of(remote, "Reject")) == 1
    assert accepts_of(remote) == []


async def test_unavailable_inbox_is_retried_and_a_later_attempt_succeeds(
    fed_client: Client, fed_config: Config, fed_services: Services, remote: RemoteInstance
) -> None:
    user = await make_user(fed_client)
    remote.add_actor("erin")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    follow = follow_of(remote, "erin", target)
    remote.status = 503
    assert await send(fed_client, fed_config, remote, "erin", follow) == 202
    await drain(fed_services)

    assert remote.answered and set(remote.answered) == {503}
    instance = await instance_of(fed_services, remote.host)
    assert instance is not None and instance["last_failure_at"] is not None
    # One failure per attempt (a quick retry may have run within the drain).
    assert instance["failures"] == len(remote.answered)
    assert instance["last_success_at"] is None
    accept_id = await accept_id_of(fed_services, target, follow["actor"])
    inbox_url = f"{follow['actor']}/inbox"
    job = await fed_services.jobs.saq.job(delivery_job_key(accept_id, inbox_url))
    assert job is not None and job.function == DELIVER_ACTIVITY
    assert job.status.value in ("queued", "active")  # waiting for its retry

    remote.status = 202
    ctx: JobContext = {"services": fed_services}
    assert await deliver_activity(ctx, **job.kwargs) == "delivered"
    [accept] = accepts_of(remote)
    assert accept.key_id == f"{target}#main-key" and accept.activity["object"] == follow["id"]
    instance = await instance_of(fed_services, remote.host)
    assert instance is not None
    assert instance["failures"] == 0 and instance["last_success_at"] is not None
    await fed_services.jobs.saq.abort(job, "delivered by the test")


async def test_gone_inbox_is_not_retried(
    fed_client: Client, fed_config: Config, fed_services: Services, remote: RemoteInstance
) -> None:
    user = await make_user(fed_client)
    remote.add_actor("frank")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    follow = follow_of(remote, "frank", target)
    remote.status = 410
    assert await send(fed_client, fed_config, remote, "frank", follow) == 202
    await drain(fed_services)

    assert remote.answered == [410]
    accept_id = await accept_id_of(fed_services, target, follow["actor"])
    # Finished (and forgotten), not waiting for a retry.
    assert (
        await fed_services.jobs.saq.job(delivery_job_key(accept_id, f"{follow['actor']}/inbox"))
        is None
    )
    instance = await instance_of(fed_services, remote.host)
    assert instance is None or instance["failures"] == 0
