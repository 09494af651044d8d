"""Two live stgy instances on loopback (`a.localhost:PORT`, `b.localhost:PORT`), each with
its own database, queue, server and worker, talking ActivityPub to each other."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from stgy.services import Services
from storage import db
from tests.conftest import (
    RUN_ID,
    LiveInstance,
    create_migrated_database,
    register_over_http,
    start_live_instance,
    stop_processes,
)

# Retries come after a second here (60 s by default), so a test can watch one happen;
# a suspended account's Delete goes out a second after its suspension (an hour by default).
FAST_RETRY = {
    "STGY_FEDERATION_DELIVERY_RETRY_DELAY": "1",
    "STGY_MODERATION_SUSPENSION_GRACE_SECONDS": "1",
}


@dataclass
class Person:
    """A user of one instance, logged in through its API."""

    instance: Peer
    id: str
    handle: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor_url(self) -> str:
        return f"{self.instance.base_url}/users/{self.handle}"

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.instance.http.request(method, path, headers=self.auth, **kwargs)

    async def post(self, text: str, **fields: Any) -> dict[str, Any]:
        response = await self.call("POST", "/api/posts", json={"text": text, **fields})
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found


@dataclass
class Peer:
    """One live instance, its HTTP client and a pool on its database."""

    name: str
    live: LiveInstance
    tmp: Path
    http: httpx.AsyncClient
    pool: asyncpg.Pool
    services: Services
    port: int
    people: list[Person] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.live.config.instance.base_url

    async def register(self, prefix: str = "u", **profile: Any) -> Person:
        made = await register_over_http(self.http, prefix)
        person = Person(self, made.id, made.handle, made.token)
        if profile:
            assert (await person.call("PATCH", "/api/accounts/me", json=profile)).is_success
        return person

    async def resolve(self, other: Person) -> str:
        """This instance's account id for a person of another instance, looked up as a
        user would: `GET /api/accounts/@handle@domain` (WebFinger, then the actor)."""
        acct = f"{other.handle}@{other.instance.live.config.instance.domain}"
        response = await self.http.get(f"/api/accounts/@{acct}")
        assert response.status_code == 200, response.text
        found: str = response.json()["id"]
        return found

    async def value(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    def stop_server(self) -> None:
        stop_processes(self.live.server)

    def start_server(self) -> None:
        with self.live.log.open("ab") as out:
            self.live.server = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "stgy", "serve"], env=self.live.env, stderr=out
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.live.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.live.log.read_text()[-3000:]
            time.sleep(0.1)

    def log_text(self) -> str:
        return self.live.log.read_text()


async def _peer(tmp_root: Path, name: str) -> Peer:
    from stgy.devservices import free_port

    url = await create_migrated_database(f"stgy_test_{RUN_ID}_{name}")
    port = free_port()
    live = start_live_instance(url, tmp_root, name, port=port, **FAST_RETRY)
    services = await Services.start(live.config)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    http = httpx.AsyncClient(base_url=live.url, timeout=10)
    return Peer(name, live, tmp_root / name, http, pool, services, port)


async def _close(peer: Peer) -> None:
    await peer.http.aclose()
    await peer.pool.close()
    await peer.services.close()
    stop_processes(peer.live.server, peer.live.worker)
    await db.drop_database(peer.live.database_url)


@pytest.fixture(scope="session")
async def pair(tmp_root: Path) -> AsyncIterator[tuple[Peer, Peer]]:
    a = await _peer(tmp_root, "ra")
    b = await _peer(tmp_root, "rb")
    try:
        yield a, b
    finally:
        await _close(a)
        await _close(b)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Poll until `check` returns something truthy; that value."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def following(follower: Person, followee: Person) -> str:
    """`follower` follows `followee` on the other instance; waits for the Accept.
    Returns the followee's account id on the follower's instance."""
    remote_id = await follower.instance.resolve(followee)
    response = await follower.call("PUT", f"/api/accounts/{remote_id}/follow")
    assert response.status_code == 202, response.text

    async def accepted() -> bool:
        state = await follower.instance.value(
            "SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2",
            int(follower.id),
            int(remote_id),
        )
        return state == "accepted"

    await eventually(accepted)
    return remote_id


async def home_posts(person: Person) -> list[dict[str, Any]]:
    response = await person.call("GET", "/api/timelines/home")
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    posts: list[dict[str, Any]] = response.json()["posts"]
    return posts


async def local_copy(peer: Peer, ap_id: str) -> int | None:
    found: int | None = await peer.value("SELECT id FROM posts WHERE ap_id = $1", ap_id)
    return found
