"""The claim on a Redis namespace: one database per namespace, a lapsed claim frees it,
and `stgy serve` / `stgy worker` refuse to start on another instance's namespace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from stgy import namespace_claim
from stgy.config import Config, load_config
from stgy.devservices import free_port
from stgy.namespace_claim import NamespaceClaim, NamespaceTaken, claim, owner_key
from stgy.services import Services
from storage import db
from tests.conftest import REDIS_URL, RUN_ID, config_env
from tests.integration.test_cli import stgy


def other_database(config: Config) -> str:
    return db.with_database(config.database.url, f"stgy_test_{RUN_ID}_someone_else")


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def mine(database_url: str, tmp_path: Path) -> Config:
    """A config on the run's database and a namespace of this test's own."""
    return load_config(environ=config_env(database_url, tmp_path, queue=tmp_path.name[-20:]))


@pytest.fixture
def theirs(mine: Config) -> Config:
    """Another instance (another database) set to the same namespace."""
    return mine.replace("database", url=other_database(mine))


async def test_one_database_per_namespace_and_a_restart_is_welcome(
    redis: aioredis.Redis, mine: Config, theirs: Config
) -> None:
    await claim(redis, mine)
    await claim(redis, mine)  # the same instance again: a restart, or its other process
    with pytest.raises(NamespaceTaken) as caught:
        await claim(redis, theirs)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{mine.namespace!r} is held by the instance on database " in message
    assert db.database_name(mine.database.url) in message
    assert db.database_name(theirs.database.url) in message
    assert "redis.queue_prefix" in message and "lapses within" in message
    ttl = await redis.ttl(owner_key(mine))
    assert 0 < ttl <= namespace_claim.CLAIM_SECONDS

    # A stopped (or killed) instance renews no more: its claim lapses and frees the name.
    await redis.delete(owner_key(mine))
    await claim(redis, theirs)
    with pytest.raises(NamespaceTaken):
        await claim(redis, mine)
    await redis.delete(owner_key(mine))


async def test_services_refuse_to_start_on_another_instances_namespace(
    redis: aioredis.Redis, mine: Config, theirs: Config
) -> None:
    services = await Services.start(mine)
    try:
        with pytest.raises(NamespaceTaken):
            await Services.start(theirs)
    finally:
        await services.close()
    await redis.delete(owner_key(mine))


async def test_a_live_process_renews_its_claim(
    redis: aioredis.Redis, mine: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(namespace_claim, "RENEW_SECONDS", 0.05)
    held = NamespaceClaim(redis, mine)
    await held.start()
    try:
        await redis.delete(owner_key(mine))
        for _ in range(100):
            if await redis.exists(owner_key(mine)):
                break
            await asyncio.sleep(0.02)
        assert await redis.get(owner_key(mine)) == (
            namespace_claim.database_identity(mine.database.url).encode()
        )
    finally:
        await held.stop()
    await redis.delete(owner_key(mine))


@pytest.mark.parametrize("command", ["serve", "worker"])
async def test_commands_refuse_another_instances_namespace_with_exit_78(
    redis: aioredis.Redis, mine: Config, database_url: str, tmp_path: Path, command: str
) -> None:
    await claim(redis, mine)
    env = config_env(
        other_database(mine),
        tmp_path,
        STGY_REDIS_QUEUE_PREFIX=mine.namespace,
        STGY_SERVER_BIND=f"127.0.0.1:{free_port()}",
    )
    try:
        result = await asyncio.to_thread(stgy, command, env=env)
    finally:
        await redis.delete(owner_key(mine))
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"stgy: config error: Redis namespace {mine.namespace!r}")
    assert "Traceback" not in result.stderr


def test_database_identity_has_no_credentials() -> None:
    identity = namespace_claim.database_identity("postgresql://u:secret@DB.example/stgy%202")
    assert identity == "db.example:5432/stgy 2"
