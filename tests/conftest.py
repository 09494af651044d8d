"""Test fixtures: a database and Redis queue of this run's own, the app, live instances."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.app import create_app
from stgy.config import Config, load_config
from stgy.devservices import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, free_port
from stgy.services import Services
from storage import db, migrations

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
SERVER_DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
REDIS_URL = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


# Folders whose tests share live instances of their own, started once per test process
# (session fixtures): under xdist each runs whole in one process, so that those
# instances, and the database connections they hold, exist once and not once per worker
# (a `-n 2` run held 87 of PostgreSQL's default 100 connections with them in both).
SHARED_INSTANCE_FOLDERS = frozenset({"roundtrip", "web", "interop"})


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, with each of those folders one unit as a file is. (xdist's own
    `loadgroup` cannot do it under pytest 9: the group it writes into a node id is lost.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileAndFolderScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            parts = file.split("/")
            if len(parts) > 2 and parts[0] == "tests" and parts[1] in SHARED_INSTANCE_FOLDERS:
                return "/".join(parts[:2])
            return file

    return LoadFileAndFolderScheduling(config, log)


def config_env(database_url: str, tmp: Path, queue: str = "main", **extra: str) -> dict[str, str]:
    """The environment that makes a config (or a subprocess) use this run's resources."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "STGY_REDIS_QUEUE_PREFIX": f"stgy-test-{RUN_ID}-{queue}",
        # Argon2id at its least cost: hashing at the default cost (0.1 s a hash here)
        # was most of the suite's time; test_password_hash_cost checks the default.
        "STGY_AUTH_PASSWORD_TIME_COST": "1",
        "STGY_AUTH_PASSWORD_MEMORY_KIB": "8192",
        "STGY_STORAGE_PATH": str(tmp / "media"),
        "STGY_MAIL_SPOOL_PATH": str(tmp / "mail"),
        "STGY_SERVER_METRICS_DIR": str(tmp / "metrics"),
        # The guard fully on: with the default ("auto") a localhost domain, as here,
        # would let fetches reach loopback; tests that want that say so.
        "STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "false",
        "STGY_DATABASE_POOL_MIN": "1",
        "STGY_DATABASE_POOL_MAX": "5",
        "STGY_WORKER_SWEEP_INTERVAL": "1",
        # Tests write far faster than people; the limit has a test of its own.
        "STGY_LIMITS_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
        # The same for the Mastodon API's limits (tests/mastodon/test_paging.py checks them).
        "STGY_LIMITS_MASTODON_REQUESTS": "1000000",
        "STGY_LIMITS_MASTODON_MEDIA_UPLOADS": "1000000",
        **extra,
    }


async def create_migrated_database(name: str, server_url: str = SERVER_DATABASE_URL) -> str:
    """Database `name` on the shared server (or on `server_url`), migrated; its URL."""
    url = db.with_database(server_url, name)
    await db.create_database_if_missing(url)
    conn = await asyncpg.connect(url)
    try:
        await migrations.migrate(conn)
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stgy")


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A migrated database of this run's own, dropped at the end."""
    url = await create_migrated_database(f"stgy_test_{RUN_ID}")
    yield url
    await db.drop_database(url)


@pytest.fixture(scope="session")
def config(database_url: str, tmp_root: Path) -> Config:
    return load_config(environ=config_env(database_url, tmp_root))


@pytest.fixture(scope="session", autouse=True)
async def clean_redis() -> AsyncIterator[None]:
    """Remove this run's queue keys at the end."""
    yield
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"saq:*stgy-test-{RUN_ID}-*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
async def services(config: Config) -> AsyncIterator[Services]:
    started = await Services.start(config)
    yield started
    await started.close()


@asynccontextmanager
async def serving(config: Config) -> AsyncIterator[Quart]:
    """An app on `config`, started with services of its own for the block."""
    application = create_app(config)
    async with application.test_app():
        yield application


@pytest.fixture
async def app(config: Config) -> AsyncIterator[Quart]:
    async with serving(config) as application:
        yield application


@pytest.fixture
def client(app: Quart) -> Client:
    return app.test_client()


@dataclass
class LiveInstance:
    """A real `stgy serve` and `stgy worker` on a loopback port."""

    url: str
    env: dict[str, str]
    config: Config
    database_url: str
    server: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    log: Path


def start_live_instance(
    database_url: str, tmp: Path, name: str, port: int | None = None, **extra: str
) -> LiveInstance:
    """Start an instance on its own database and queue; `database_url` must be migrated."""
    port = port or free_port()
    env = {
        **os.environ,
        **config_env(
            database_url,
            tmp / name,
            queue=name,
            STGY_INSTANCE_DOMAIN=f"{name}.localhost:{port}",
            STGY_SERVER_BIND=f"127.0.0.1:{port}",
            STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true",
            **extra,
        ),
    }
    (tmp / name).mkdir(parents=True, exist_ok=True)
    log = tmp / name / "instance.log"
    with log.open("ab") as out:
        server = subprocess.Popen([sys.executable, "-m", "stgy", "serve"], env=env, stderr=out)
        worker = subprocess.Popen([sys.executable, "-m", "stgy", "worker"], env=env, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop_processes(server, worker)
            raise RuntimeError(f"live instance did not start; log:\n{log.read_text()}")
        time.sleep(0.1)
    return LiveInstance(url, env, load_config(environ=env), database_url, server, worker, log)


def stop_processes(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
async def live_instance(tmp_root: Path) -> AsyncIterator[LiveInstance]:
    """One live instance for the session (federation tests start a second the same way)."""
    url = await create_migrated_database(f"stgy_test_{RUN_ID}_a")
    instance = start_live_instance(url, tmp_root, "a")
    yield instance
    stop_processes(instance.server, instance.worker)
    await db.drop_database(url)


async def wait_for(predicate_coro: object, timeout: float = 10.0) -> None:
    """Poll an async predicate (a zero-argument coroutine function) until true."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate_coro():  # type: ignore[operator]
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@dataclass
class User:
    id: str
    handle: str
    token: str
    password: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_handle(prefix: str = "u") -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


@dataclass(frozen=True)
class Registered:
    """An account registered and logged in through a live instance's HTTP API."""

    id: str
    handle: str
    token: str


async def register_over_http(http: httpx.AsyncClient, prefix: str = "u") -> Registered:
    """Register and log in through the API of the live instance `http` talks to."""
    handle = unique_handle(prefix)
    password = f"{secrets.token_hex(8)} battery staple"
    created = await http.post(
        "/api/accounts",
        json={
            "handle": handle,
            "display_name": handle.title(),
            "password": password,
            "email": f"{handle}@example.com",
        },
    )
    assert created.status_code == 201, created.text
    login = await http.post("/api/auth/login", json={"handle": handle, "password": password})
    assert login.status_code == 200, login.text
    return Registered(created.json()["id"], handle, login.json()["token"])


async def make_user(client: Client, handle: str | None = None, **fields: object) -> User:
    """Register and log in a user through the API."""
    handle = handle or unique_handle()
    password = f"correct horse {handle}"[::-1]
    response = await client.post(
        "/api/accounts",
        json={
            "handle": handle,
            "display_name": fields.pop("display_name", handle.title()),
            "password": password,
            "email": f"{handle}@example.com",
        },
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    account = await response.get_json()
    response = await client.post("/api/auth/login", json={"handle": handle, "password": password})
    assert response.status_code == 200, await response.get_data(as_text=True)
    token = (await response.get_json())["token"]
    user = User(account["id"], handle, token, password)
    if fields:
        response = await client.patch("/api/accounts/me", json=fields, headers=user.auth)
        assert response.status_code == 200, await response.get_data(as_text=True)
    return user
