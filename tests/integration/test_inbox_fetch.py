"""The inbox learns unknown actors' keys from their documents, served by a real HTTP server
on loopback that speaks like Mastodon, and refetches a key that no longer verifies."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart, Response
from quart.typing import TestClientProtocol as Client

from federation import signatures
from stgy.config import Config, load_config
from stgy.devservices import free_port
from stgy.services import Services
from storage import follows as follows_sql
from tests.conftest import config_env, make_user, serving
from tests.integration.test_inbox import _key_pair, row_count
from tests.integration.test_outbox import drain

AS = "https://www.w3.org/ns/activitystreams"


@dataclass
class RemoteServer:
    """A Mastodon-shaped server on loopback serving actors' documents."""

    base: str
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # handle -> private PEM
    fetches: int = 0

    @property
    def host(self) -> str:
        return self.base.removeprefix("http://")

    def add_actor(self, handle: str, *, locked: bool = False) -> str:
        actor_id = f"{self.base}/users/{handle}"
        private_pem, public_pem = _key_pair()
        self.keys[handle] = private_pem
        self.actors[handle] = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "following": f"{actor_id}/following",
            "followers": f"{actor_id}/followers",
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "featured": f"{actor_id}/collections/featured",
            "preferredUsername": handle,
            "name": handle.title(),
            "summary": "<p>about me</p><script>x()</script>",
            "url": f"{self.base}/@{handle}",
            "manuallyApprovesFollowers": locked,
            "discoverable": True,
            "published": "2024-01-01T00:00:00Z",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem,
            },
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
        }
        return actor_id

    def rotate_key(self, handle: str) -> None:
        private_pem, public_pem = _key_pair()
        self.keys[handle] = private_pem
        self.actors[handle]["publicKey"]["publicKeyPem"] = public_pem


@pytest.fixture
async def remote_server() -> AsyncIterator[RemoteServer]:
    port = free_port()
    server = RemoteServer(f"http://127.0.0.1:{port}")
    app = Quart("remote")

    @app.get("/users/<handle>")
    async def actor(handle: str) -> Response:
        server.fetches += 1
        if handle not in server.actors:
            return Response("", status=404)
        return Response(
            orjson.dumps(server.actors[handle]), content_type="application/activity+json"
        )

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
    server.fetches = 0
    yield server
    stop.set()
    await task


@pytest.fixture
async def fed_config(database_url: str, tmp_root: Path) -> Config:
    return load_config(
        environ=config_env(database_url, tmp_root, STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true")
    )


@pytest.fixture
async def fed_client(fed_config: Config) -> AsyncIterator[Client]:
    async with serving(fed_config) as app:
        yield app.test_client()


async def send(
    client: Client, config: Config, server: RemoteServer, handle: str, activity: dict[str, Any]
) -> int:
    body = orjson.dumps(activity)
    url = f"{config.instance.base_url}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request(
        "POST",
        url,
        headers,
        body,
        f"{server.base}/users/{handle}#main-key",
        server.keys[handle],
    )
    response = await client.post("/inbox", data=body, headers=headers)
    return response.status_code


def follow_of(server: RemoteServer, handle: str, target: str) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{server.base}/{secrets.token_hex(6)}",
        "type": "Follow",
        "actor": f"{server.base}/users/{handle}",
        "object": target,
    }


async def test_unknown_actor_is_fetched_and_stored(
    fed_client: Client, fed_config: Config, services: Services, remote_server: RemoteServer
) -> None:
    user = await make_user(fed_client)
    actor_id = remote_server.add_actor("bob", locked=True)
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    follow = follow_of(remote_server, "bob", target)
    assert await send(fed_client, fed_config, remote_server, "bob", follow) == 202
    await drain(services)
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, handle, domain, display_name, bio_html, locked, inbox_url,"
            " shared_inbox_url, followers_url, public_key_id, fetched_at"
            " FROM accounts WHERE ap_id = $1",
            actor_id,
        )
        found = await follows_sql.get_follow(conn, follower_id=row["id"], followee_id=int(user.id))
    assert row["handle"] == "bob" and row["domain"] == remote_server.host
    assert row["display_name"] == "Bob" and "script" not in row["bio_html"]
    assert row["locked"] is True and row["fetched_at"] is not None
    assert row["inbox_url"] == f"{actor_id}/inbox"
    assert row["shared_inbox_url"] == f"{remote_server.base}/inbox"
    assert row["followers_url"] == f"{actor_id}/followers"
    assert row["public_key_id"] == f"{actor_id}#main-key"
    assert found is not None and found.state == "accepted"


async def test_rotated_key_is_refetched_once(
    fed_client: Client, fed_config: Config, services: Services, remote_server: RemoteServer
) -> None:
    user = await make_user(fed_client)
    remote_server.add_actor("carol")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    first = follow_of(remote_server, "carol", target)
    assert await send(fed_client, fed_config, remote_server, "carol", first) == 202
    assert remote_server.fetches == 1
    second = follow_of(remote_server, "carol", target)
    assert await send(fed_client, fed_config, remote_server, "carol", second) == 202
    assert remote_server.fetches == 1  # the cached key verified
    remote_server.rotate_key("carol")
    rotated = follow_of(remote_server, "carol", target)
    assert await send(fed_client, fed_config, remote_server, "carol", rotated) == 202
    assert remote_server.fetches == 2


async def test_actor_that_cannot_be_fetched_is_refused(
    fed_client: Client, fed_config: Config, services: Services, remote_server: RemoteServer
) -> None:
    remote_server.add_actor("dave")
    # Signed with dave's key, but the server no longer serves dave.
    activity = follow_of(remote_server, "dave", f"{remote_server.base}/users/x")
    del remote_server.actors["dave"]
    assert await send(fed_client, fed_config, remote_server, "dave", activity) == 401
    assert await row_count(services, activity) == 0
