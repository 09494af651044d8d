"""Server-sent events: notifications and home timeline updates arrive on an open stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from quart.typing import TestClientProtocol as Client
from quart.typing import TestHTTPConnectionProtocol as Connection

from stgy.api import streaming as streaming_api
from stgy.app import create_app
from stgy.config import Config
from stgy.domain import streaming
from stgy.services import Services
from tests.conftest import LiveInstance, User, make_user, unique_handle
from tests.integration.test_notifications import act, create_post, last_event_id, run_again
from tests.integration.test_outbox import drain


class Stream:
    """Reads an event stream frame by frame."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.buffer = ""

    async def frame(self, timeout: float = 10.0) -> str:
        while "\n\n" not in self.buffer:
            chunk = await asyncio.wait_for(self.connection.receive(), timeout)
            self.buffer += chunk.decode()
        frame, self.buffer = self.buffer.split("\n\n", 1)
        return frame

    async def event(self, name: str, timeout: float = 10.0) -> dict[str, Any]:
        """The data of the next `event: name` frame, skipping comments and other events."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.frame(max(0.1, deadline - time.monotonic()))
            lines = frame.split("\n")
            if lines[0] == f"event: {name}":
                assert lines[1].startswith("data: ")
                data: dict[str, Any] = json.loads(lines[1].removeprefix("data: "))
                return data


@asynccontextmanager
async def open_stream(client: Client, path: str, **headers: str) -> AsyncIterator[Stream]:
    connection = client.request(path, headers=headers)
    async with connection:
        await connection.send_complete()
        stream = Stream(connection)
        try:
            # The first frame comes once the stream is subscribed: nothing is missed after.
            assert await stream.frame() == ": connected"
            yield stream
        finally:
            await connection.disconnect()


async def subscribers(services: Services, user: User) -> int:
    channel = streaming.user_channel(services.config, int(user.id))
    [(_, count)] = await services.redis.pubsub_numsub(channel)
    return int(count)


async def test_a_like_arrives_as_a_notification_event(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    post = await create_post(client, alice, "stream me")
    async with open_stream(client, "/api/streaming?stream=user", **alice.auth) as stream:
        assert stream.connection.status_code == 200
        assert stream.connection.headers is not None
        assert stream.connection.headers["Content-Type"].startswith("text/event-stream")
        assert stream.connection.headers["Cache-Control"] == "no-cache"
        assert await subscribers(services, alice) == 1

        await act(client, bob, "PUT", f"/api/posts/{post['id']}/like")
        await drain(services)
        notification = await stream.event("notification")
        assert notification["type"] == "like" and notification["read"] is False
        assert notification["account"]["id"] == bob.id
        assert notification["post"]["id"] == post["id"]
        listed = await client.get("/api/notifications", headers=alice.auth)
        assert (await listed.get_json())["notifications"][0]["id"] == notification["id"]
    # The client went away: its subscription (and Redis connection) went with it.
    assert await subscribers(services, alice) == 0


async def test_a_job_run_twice_publishes_once(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.5)
    alice, bob = await make_user(client), await make_user(client)
    post = await create_post(client, alice, "only once")
    await drain(services)
    start = await last_event_id(services)
    async with open_stream(client, "/api/streaming", **alice.auth) as stream:
        await act(client, bob, "PUT", f"/api/posts/{post['id']}/like")
        await drain(services)
        await stream.event("notification")
        assert await run_again(services, start) == 1
        # Only keepalives follow: the second run inserted nothing, so published nothing.
        for _ in range(3):
            assert await stream.frame() == ": keepalive"


async def test_a_followed_account_posts_and_an_update_arrives(
    client: Client, services: Services
) -> None:
    alice, bob = await make_user(client), await make_user(client)
    await act(client, bob, "PUT", f"/api/accounts/{alice.id}/follow")
    await drain(services)
    # EventSource cannot send headers, so the token may come in the query string.
    path = f"/api/streaming?stream=user&access_token={bob.token}"
    async with open_stream(client, path) as stream:
        post = await create_post(client, alice, "fresh from the oven")
        await drain(services)
        update = await stream.event("update")
        assert update["id"] == post["id"] and update["text"] == "fresh from the oven"
        assert update["account"]["id"] == alice.id and update["liked"] is False


async def test_keepalive_comments(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.1)
    alice = await make_user(client)
    async with open_stream(client, "/api/streaming", **alice.auth) as stream:
        assert await stream.frame() == ": keepalive"
        assert await stream.frame() == ": keepalive"


async def test_logging_out_ends_the_stream(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.1)
    monkeypatch.setattr(streaming_api, "SESSION_CHECK_SECONDS", 0.0)
    alice = await make_user(client)
    async with client.request("/api/streaming", headers=alice.auth) as connection:
        await connection.send_complete()
        assert await asyncio.wait_for(connection.receive(), 10) == b": connected\n\n"
        assert await asyncio.wait_for(connection.receive(), 10) == b": keepalive\n\n"
        assert (await client.post("/api/auth/logout", headers=alice.auth)).status_code == 204
        while (chunk := await asyncio.wait_for(connection.receive(), 10)) != b"":
            assert chunk == b": keepalive\n\n"


async def test_login_required_and_stream_checked(client: Client) -> None:
    alice = await make_user(client)
    for path, headers, status, field in (
        ("/api/streaming?stream=user", {}, 401, None),
        ("/api/streaming?access_token=nonsense", {}, 401, None),
        ("/api/streaming", {"Authorization": "Bearer nonsense"}, 401, None),
        ("/api/streaming?stream=public", alice.auth, 400, "stream"),
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == status, path
        body = await response.get_json()
        if field:
            assert body["detail"]["field"] == field


async def test_shutdown_ends_open_streams(config: Config, services: Services) -> None:
    app = create_app(config)
    await app.startup()
    running = True
    try:
        client = app.test_client()
        alice = await make_user(client)
        async with client.request("/api/streaming", headers=alice.auth) as connection:
            await connection.send_complete()
            assert await asyncio.wait_for(connection.receive(), 10) == b": connected\n\n"
            running = False
            await app.shutdown()
            # The stream ended by itself (the empty last chunk) before the services closed.
            # (wait_for only guards against a hang; how fast it ends is not asserted.)
            assert await asyncio.wait_for(connection.receive(), 5) == b""
        assert await subscribers(services, alice) == 0
    finally:
        if running:
            await app.shutdown()


async def live_user(http: httpx.AsyncClient) -> dict[str, str]:
    handle = unique_handle("live")
    password = "a live passphrase"
    registered = await http.post(
        "/api/accounts",
        json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
    )
    assert registered.status_code == 201, registered.text
    login = await http.post("/api/auth/login", json={"handle": handle, "password": password})
    return {"id": registered.json()["id"], "token": login.json()["token"]}


async def test_live_server_streams_a_notification(live_instance: LiveInstance) -> None:
    """Through Hypercorn and a worker process: events are flushed as they happen."""
    async with httpx.AsyncClient(base_url=live_instance.url, timeout=15) as http:
        alice, bob = await live_user(http), await live_user(http)
        post = await http.post(
            "/api/posts",
            json={"text": "live"},
            headers={"Authorization": f"Bearer {alice['token']}"},
        )
        assert post.status_code == 201, post.text
        path = f"/api/streaming?stream=user&access_token={alice['token']}"
        async with http.stream("GET", path) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert await anext(lines) == ": connected"
            liked = await http.put(
                f"/api/posts/{post.json()['id']}/like",
                headers={"Authorization": f"Bearer {bob['token']}"},
            )
            assert liked.status_code in (200, 204), liked.text
            while await asyncio.wait_for(anext(lines), 15) != "event: notification":
                pass
            data = json.loads((await anext(lines)).removeprefix("data: "))
            assert data["type"] == "like" and data["account"]["id"] == bob["id"]
