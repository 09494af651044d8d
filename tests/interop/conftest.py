"""A live stgy for the interoperability checks, and the peers that talk to it.

The instance's domain is `localhost:PORT` rather than `a.localhost:PORT`:
the tools written by others resolve names with the system resolver, which
knows `localhost` but not its subdomains.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from stgy.config import load_config
from stgy.devservices import free_port
from storage import db
from tests.conftest import (
    RUN_ID,
    LiveInstance,
    config_env,
    create_migrated_database,
    register_over_http,
    stop_processes,
)
from tests.interop.mastodon_peer import MastodonPeer, running_peer


def start_interop_instance(database_url: str, tmp: Path) -> LiveInstance:
    """`stgy serve` and `stgy worker` on `database_url` (migrated), at http://localhost:PORT."""
    port = free_port()
    home = tmp / "interop"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **config_env(
            database_url,
            home,
            queue="interop",
            STGY_INSTANCE_DOMAIN=f"localhost:{port}",
            STGY_SERVER_BIND=f"127.0.0.1:{port}",
            STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true",
        ),
    }
    log = home / "instance.log"
    with log.open("ab") as out:
        server = subprocess.Popen([sys.executable, "-m", "stgy", "serve"], env=env, stderr=out)
        worker = subprocess.Popen([sys.executable, "-m", "stgy", "worker"], env=env, stderr=out)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop_processes(server, worker)
            raise RuntimeError(f"interop instance did not start; log:\n{log.read_text()}")
        time.sleep(0.1)
    return LiveInstance(url, env, load_config(environ=env), database_url, server, worker, log)


@pytest.fixture(scope="session")
async def interop_instance(tmp_root: Path) -> AsyncIterator[LiveInstance]:
    database_url = await create_migrated_database(f"stgy_test_{RUN_ID}_interop")
    instance = start_interop_instance(database_url, tmp_root)
    yield instance
    stop_processes(instance.server, instance.worker)
    await db.drop_database(database_url)


@pytest.fixture
async def peer() -> AsyncIterator[MastodonPeer]:
    """A Mastodon-shaped server of its own (a new host, so nothing is remembered about it)."""
    async with running_peer() as started:
        yield started


@dataclass
class LiveUser:
    id: str
    handle: str
    token: str
    actor_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(instance: LiveInstance, **fields: Any) -> LiveUser:
    """An account on the live instance, registered and logged in through its API."""
    async with httpx.AsyncClient(base_url=instance.url) as client:
        made = await register_over_http(client, "i")
        user = LiveUser(made.id, made.handle, made.token, f"{instance.url}/users/{made.handle}")
        if fields:
            changed = await client.patch("/api/accounts/me", json=fields, headers=user.auth)
            assert changed.status_code == 200, changed.text
    return user


async def fetch_value(instance: LiveInstance, query: str, *args: object) -> Any:
    """One value from the live instance's database."""
    conn = await asyncpg.connect(instance.database_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()
