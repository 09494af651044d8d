"""The README's recipe for a second instance on the same machine, run as written: two
instances from one checkout (one config file) that differ only in what the recipe sets
(domain, bind, DATABASE_URL), with every other setting at its default.

Nothing that keeps them apart is set here: no queue prefix, no metrics, media or mail
paths, no `allow_private_addresses`. What a user would not set but a test must: the
config file is a copy in a temporary folder (so the relative `.var/` paths land there),
the ports are free ones, and Redis is a private server of this test's own (the run's
shared Redis is also used by other runs, and the defaults must be seen to separate the
two instances without a prefix of the test's choosing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from stgy.config import DEFAULT_CONFIG, Config, load_config
from stgy.devservices import free_port, start_private_redis, stop_private
from stgy.namespace_claim import database_identity, owner_key
from storage import db
from tests.conftest import RUN_ID, create_migrated_database, register_over_http, stop_processes
from tests.roundtrip.conftest import eventually

# What the environment may not bring in: the test proves the defaults, not a setting.
_NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
_EVENT_JOB = re.compile(r"job=handle_outbox_event key=outbox:(\d+) ")


@dataclass
class Instance:
    """One instance started as the recipe starts it: `stgy serve` and `stgy worker`."""

    name: str
    port: int
    env: dict[str, str]
    config: Config
    pool: asyncpg.Pool
    http: httpx.AsyncClient
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return f"localhost:{self.port}"

    def log(self, process: str) -> Path:
        return self.config.root / f"{self.name}-{process}.log"

    def start(self, cwd: Path) -> None:
        for process in ("serve", "worker"):
            with self.log(process).open("ab") as out:
                self.processes.append(
                    subprocess.Popen(  # noqa: S603 - our own command
                        [sys.executable, "-m", "stgy", process], env=self.env, cwd=cwd, stderr=out
                    )
                )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return
            except httpx.TransportError:
                pass
            exited = [p.args for p in self.processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                logs = "\n".join(self.log(p).read_text() for p in ("serve", "worker"))
                raise AssertionError(f"{self.name} did not start ({exited}); logs:\n{logs}")
            time.sleep(0.1)

    async def register(self, prefix: str) -> dict[str, str]:
        made = await register_over_http(self.http, prefix)
        return {"id": made.id, "handle": made.handle, "Authorization": f"Bearer {made.token}"}

    def worker_event_ids(self) -> list[int]:
        """The outbox events this instance's worker ran a job for, as its log says."""
        return [int(found) for found in _EVENT_JOB.findall(self.log("worker").read_text())]


def recipe_env(config_file: Path, port: int, database_url: str, redis_url: str) -> dict[str, str]:
    """`STGY_INSTANCE_DOMAIN=localhost:PORT STGY_SERVER_BIND=127.0.0.1:PORT DATABASE_URL=...`,
    on the test's config copy and Redis, and no other setting of ours."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STGY_") and key not in _NOT_INHERITED
    }
    env.update(
        STGY_CONFIG=str(config_file),
        STGY_INSTANCE_DOMAIN=f"localhost:{port}",
        STGY_SERVER_BIND=f"127.0.0.1:{port}",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    return env


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    home = tmp_path / "services"
    url = start_private_redis(home)
    try:
        yield url
    finally:
        stop_private(home)


@pytest.fixture
async def two(tmp_path: Path, private_redis: str) -> AsyncIterator[tuple[Instance, Instance]]:
    """Two instances on one copy of the repository's instance.toml; not started yet."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    config_file = checkout / "instance.toml"
    shutil.copyfile(DEFAULT_CONFIG, config_file)
    instances: list[Instance] = []
    try:
        for name in ("one", "two"):
            url = await create_migrated_database(f"stgy_test_{RUN_ID}_{name}_recipe")
            port = free_port()
            env = recipe_env(config_file, port, url, private_redis)
            instances.append(
                Instance(
                    name,
                    port,
                    env,
                    load_config(environ=env),
                    await asyncpg.create_pool(url, min_size=1, max_size=2),
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10),
                )
            )
        yield instances[0], instances[1]
    finally:
        for instance in instances:
            stop_processes(*instance.processes)
            await instance.http.aclose()
            await instance.pool.close()
            await db.drop_database(instance.config.database.url)


async def test_the_readme_recipe_runs_two_instances_that_federate(
    two: tuple[Instance, Instance], tmp_path: Path, private_redis: str
) -> None:
    one, other = two
    checkout = one.config.root
    # Told apart by default: a namespace each, and folders of their own under the copy.
    assert one.config.namespace != other.config.namespace
    for path in ("metrics_path", "media_path", "mail_spool_path"):
        first, second = getattr(one.config, path), getattr(other.config, path)
        assert first != second
        assert first.is_relative_to(checkout / ".var") and second.is_relative_to(checkout / ".var")

    one.start(checkout)
    one.wait_until_healthy()
    assert (await one.http.get("/metrics")).is_success
    metrics_of_one = sorted(one.config.metrics_path.iterdir())
    assert metrics_of_one
    other.start(checkout)
    other.wait_until_healthy()
    # Starting the second did not empty the first one's metrics folder.
    assert set(metrics_of_one) <= set(one.config.metrics_path.iterdir())

    alice, bob = await one.register("alice"), await other.register("bob")

    def as_(person: dict[str, str]) -> dict[str, str]:
        return {"Authorization": person["Authorization"]}

    # bob follows alice by her handle: WebFinger and actor over http to localhost:PORT,
    # through the SSRF guard at its default.
    found = await other.http.get(f"/api/accounts/@{alice['handle']}@{one.domain}", headers=as_(bob))
    assert found.status_code == 200, found.text
    alice_on_other = found.json()["id"]
    followed = await other.http.put(f"/api/accounts/{alice_on_other}/follow", headers=as_(bob))
    assert followed.status_code == 202, followed.text

    async def accepted() -> bool:
        state = await other.pool.fetchval(
            "SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2",
            int(bob["id"]),
            int(alice_on_other),
        )
        return state == "accepted"

    await eventually(accepted)

    posted = await one.http.post(
        "/api/posts", json={"text": "hello from the first instance"}, headers=as_(alice)
    )
    assert posted.status_code == 201, posted.text
    ap_id = posted.json()["ap_id"]

    async def in_bobs_home() -> list[dict[str, Any]]:
        response = await other.http.get("/api/timelines/home", headers=as_(bob))
        if response.status_code == 204:
            return []
        assert response.status_code == 200, response.text
        return [p for p in response.json()["posts"] if p["ap_id"] == ap_id]

    (arrived,) = await eventually(in_bobs_home)
    assert arrived["account"]["id"] == alice_on_other

    # Each instance holds its namespace, and every key in Redis is under one of the two.
    redis = aioredis.from_url(private_redis)
    try:
        for instance in (one, other):
            held = await redis.get(owner_key(instance.config))
            assert held == database_identity(instance.config.database.url).encode()
        namespaces = (one.config.namespace, other.config.namespace)
        keys = [key.decode() async for key in redis.scan_iter(count=1000)]
    finally:
        await redis.aclose()
    assert keys
    for key in keys:
        name = key.removeprefix("saq:job:").removeprefix("saq:")
        assert name.startswith(tuple(f"{ns}:" for ns in namespaces)), key

    # Every event job a worker ran was for its own instance's event, none for one it could
    # not find (the other's); and every event of both was applied, none left to the other.
    async def all_done() -> bool:
        pending = [
            await instance.pool.fetchval("SELECT count(*) FROM outbox_events WHERE done_at IS NULL")
            for instance in (one, other)
        ]
        return pending == [0, 0]

    await eventually(all_done)
    stop_processes(*one.processes, *other.processes)  # the logs are complete once they exit
    events: dict[str, set[int]] = {}
    for instance in (one, other):
        ran = set(instance.worker_event_ids())
        rows = await instance.pool.fetch("SELECT id FROM outbox_events")
        events[instance.name] = {row["id"] for row in rows}
        assert ran, instance.name
        unknown = ran - events[instance.name]
        assert not unknown, f"{instance.name}'s worker ran jobs for events it has not: {unknown}"
    assert not events["one"] & events["two"]
