"""A worker killed while it holds jobs, and Redis emptied, under a live instance posting.

Used by tests/faults/test_worker_crash.py and, at a larger size, bench/bench_recovery.py.
A real `stgy serve` and `stgy worker` run on the scenario's own database and on a Redis
server of its own (the flush would hit other runs' queues otherwise). One author with
`followers` local followers writes `posts` posts through the HTTP API, each mentioning
one follower; meanwhile the worker is killed with SIGKILL at moments when it holds
jobs, restarted, and Redis is flushed once. Then every follower must have every post
in their home timeline once, and every mention its one notification.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import redis.asyncio as aioredis

from stgy.config import load_config
from stgy.devservices import free_port
from stgy.domain import accounts, follows
from stgy.services import Services, queue_name

PASSWORD = "a long and unguessable password"


@dataclass
class Outcome:
    expected: int  # timeline entries that must exist: followers x posts
    present: int  # distinct ones found
    doubled: int  # (owner, post) pairs found more than once
    mentions_expected: int
    mentions_present: int
    mentions_doubled: int
    events_pending: int
    kills: int
    kills_holding_jobs: int  # the worker held jobs when killed (taken or running)
    kills_running_jobs: int  # ... and ran at least one of them
    requeued_logged: int  # jobs the recovery loop put back, as its log lines say
    seconds_to_complete: float  # from the last worker restart (or post) to the last entry

    @property
    def missing(self) -> int:
        return self.expected - self.present


@dataclass
class CrashScenario:
    database_url: str
    redis_url: str
    tmp: Path
    followers: int = 150
    posts: int = 40
    kills: int = 3
    post_interval: float = 0.15
    flush_at_kill: int = 2  # Redis is flushed right after this kill (1-based)
    seed: int = 1
    env: dict[str, str] = field(default_factory=dict)
    log: Path = field(init=False)
    _worker: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _server: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _kills: int = field(default=0, init=False)
    _kills_holding: int = field(default=0, init=False)
    _kills_running: int = field(default=0, init=False)
    _last_restart: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.log = self.tmp / "instance.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "STGY_REDIS_QUEUE_PREFIX": f"crash-{os.getpid()}",
            "STGY_INSTANCE_DOMAIN": f"crash.localhost:{self.port}",
            "STGY_SERVER_BIND": f"127.0.0.1:{self.port}",
            "STGY_AUTH_PASSWORD_TIME_COST": "1",
            "STGY_AUTH_PASSWORD_MEMORY_KIB": "8192",
            "STGY_STORAGE_PATH": str(self.tmp / "media"),
            "STGY_MAIL_SPOOL_PATH": str(self.tmp / "mail"),
            "STGY_SERVER_METRICS_DIR": str(self.tmp / "metrics"),
            "STGY_LIMITS_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
            **self.env,
        }
        self.config = load_config(environ=self.env)
        self.random = random.Random(self.seed)

    # -- processes -------------------------------------------------------------------

    def _spawn(self, command: str) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            argv = [sys.executable, "-m", "stgy", command]
            return subprocess.Popen(argv, env=self.env, stderr=out)

    def start(self) -> None:
        self._server = self._spawn("serve")
        self._worker = self._spawn("worker")
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self._server.poll() is not None:
                self.stop()
                raise RuntimeError(f"the instance did not start; log:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in (self._server, self._worker):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self._server, self._worker):
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    async def _held(self, redis: aioredis.Redis) -> set[str]:
        """The states ('active': running, 'queued': taken, not started) of the jobs the
        worker holds."""
        ids = await redis.lrange(f"saq:{queue_name(self.config)}:active", 0, -1)
        if not ids:
            return set()
        return {json.loads(p)["status"] for p in await redis.mget(ids) if p}

    async def _kill_worker_holding_jobs(
        self, redis: aioredis.Redis, provoke: Callable[[], Awaitable[None]], timeout: float
    ) -> None:
        """SIGKILL the worker at a moment it runs a job, or failing that one it has taken
        (frozen with SIGSTOP first, so what it holds cannot change before it dies). When
        nothing is caught for a second (the job ran before the first look, or the worker
        is still starting on a busy machine), `provoke` writes one more post; after
        `timeout`, it is killed whatever it holds."""
        worker = self._worker
        assert worker is not None
        deadline = time.monotonic() + timeout
        held: set[str] = set()
        while time.monotonic() < deadline:
            provoke_at = time.monotonic() + 1.0
            while time.monotonic() < provoke_at:
                if "active" in await self._held(redis):
                    worker.send_signal(signal.SIGSTOP)
                    held = await self._held(redis)
                    if "active" in held:
                        break
                    worker.send_signal(signal.SIGCONT)
                await asyncio.sleep(0.001)
            if "active" in held:
                break
            await provoke()
        else:
            worker.send_signal(signal.SIGSTOP)
            held = await self._held(redis)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        self._kills += 1
        self._kills_running += "active" in held
        self._kills_holding += bool(held)

    def _restart_worker(self) -> None:
        self._worker = self._spawn("worker")
        self._last_restart = time.monotonic()

    # -- the run ---------------------------------------------------------------------

    async def setup(self) -> tuple[int, str, list[str]]:
        """The author and its followers, made through the domain calls; the author's token."""
        services = await Services.start(self.config)
        try:
            run = f"{os.getpid() % 10000}"
            author = await accounts.register(
                services,
                handle=f"author{run}",
                display_name="Author",
                password=PASSWORD,
                email=f"author{run}@example.com",
            )
            gate = asyncio.Semaphore(4)

            async def follower(i: int) -> tuple[int, str]:
                async with gate:
                    handle = f"f{run}x{i}"
                    made = await accounts.register(
                        services,
                        handle=handle,
                        display_name=handle,
                        password=PASSWORD,
                        email=f"{handle}@example.com",
                    )
                    await follows.follow(services, made.account.id, author.account.id)
                    return made.account.id, handle

            made = await asyncio.gather(*(follower(i) for i in range(self.followers)))
        finally:
            await services.close()
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            response = await http.post(
                "/api/auth/login", json={"handle": author.account.handle, "password": PASSWORD}
            )
            response.raise_for_status()
            token = response.json()["token"]
        return author.account.id, token, [handle for _, handle in made]

    async def run(self) -> Outcome:
        author_id, token, handles = await self.setup()
        # Kills after random posts, and the last right after the last post, while its
        # fan-out runs.
        kill_after: set[int] = set()
        if self.kills:
            kill_after = {*self.random.sample(range(1, self.posts), self.kills - 1), self.posts}
        redis = aioredis.from_url(self.redis_url)
        post_ids: list[int] = []
        try:
            async with httpx.AsyncClient(
                base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as http:

                async def post() -> None:
                    n = len(post_ids) + 1
                    mention = handles[n % len(handles)]
                    response = await http.post(
                        "/api/posts", json={"text": f"post {n} for @{mention}"}
                    )
                    assert response.status_code == 201, response.text
                    post_ids.append(int(response.json()["id"]))

                for n in range(1, self.posts + 1):
                    await post()
                    if n in kill_after:
                        flush = self._kills + 1 == self.flush_at_kill
                        await self._chaos(redis, post, flush=flush)
                    else:
                        await asyncio.sleep(self.post_interval)
            if not self.kills:
                self._last_restart = time.monotonic()  # no fault: timed from the last post
        finally:
            await redis.aclose()
        return await self._await_outcome(author_id, post_ids, len(handles))

    async def _chaos(
        self, redis: aioredis.Redis, provoke: Callable[[], Awaitable[None]], *, flush: bool
    ) -> None:
        await self._kill_worker_holding_jobs(redis, provoke, timeout=30.0)
        if flush:
            # What a Redis restart without persistence leaves: nothing at all.
            await redis.flushall()
        await asyncio.sleep(self.random.uniform(0.1, 0.5))
        self._restart_worker()

    async def _await_outcome(
        self, author_id: int, post_ids: list[int], followers: int, bound: float = 120.0
    ) -> Outcome:
        conn = await asyncpg.connect(self.database_url)
        try:
            expected = followers * len(post_ids)
            deadline = time.monotonic() + bound
            while True:
                present = await conn.fetchval(
                    "SELECT count(*) FROM timeline_entries t JOIN follows f"
                    " ON f.follower_id = t.owner_id AND f.followee_id = $1"
                    " WHERE t.post_id = ANY($2::bigint[])",
                    author_id,
                    post_ids,
                )
                pending = await conn.fetchval(
                    "SELECT count(*) FROM outbox_events WHERE done_at IS NULL"
                )
                if (present == expected and pending == 0) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            seconds = time.monotonic() - self._last_restart
            # Pairs, not rows: the primary key holds one row per pair, so a doubled pair
            # would have to come as a second entry for the same post under another id.
            doubled = await conn.fetchval(
                "SELECT count(*) FROM (SELECT owner_id, post_id FROM timeline_entries"
                " WHERE post_id = ANY($1::bigint[]) GROUP BY 1, 2 HAVING count(*) > 1) d",
                post_ids,
            )
            mentions = await conn.fetch(
                "SELECT post_id, count(*) AS n FROM notifications"
                " WHERE type = 'mention' AND post_id = ANY($1::bigint[]) GROUP BY 1",
                post_ids,
            )
        finally:
            await conn.close()
        self.stop()
        requeued = self.log.read_text().count("outcome=requeued")
        return Outcome(
            expected=expected,
            present=present,
            doubled=doubled,
            mentions_expected=len(post_ids),
            mentions_present=len(mentions),
            mentions_doubled=sum(1 for row in mentions if row["n"] > 1),
            events_pending=pending,
            kills=self._kills,
            kills_holding_jobs=self._kills_holding,
            kills_running_jobs=self._kills_running,
            requeued_logged=requeued,
            seconds_to_complete=seconds,
        )
