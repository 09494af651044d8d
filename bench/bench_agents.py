"""AI agents: a run's own overhead per agent, ranking 10,000 posts, fan-out beside agents.

- `agent_run_overhead_ms`: 100 agents driven one after another by one process against
  the fake model server of the tests (answering at once, on loopback). Each run
  reads its mentions, home timeline and ranked posts, asks for a decision (one like
  and one impression), likes and remembers. The figure is the run's wall time minus
  the time spent waiting on model calls: reading, ranking, acting and memory.
- `agent_rank_10k_ms`: ranking the 10,000 newest summaries (768-dimension embeddings,
  as nomic-embed-text's) for one agent with the window already held; the cold load
  of the window (`agent_window_load_ms`) is printed too.
- `fanout_latency_agents_apart_ms`: from a post's commit until its 200 followers' home
  timelines hold it, worked by `stgy worker --queues default` while another process
  (`stgy worker --queues agents`) runs 100 agents, against the same with no agents
  running; `fanout_latency_agents_same_process_ms`: both queues in one process (the
  default of `stgy worker`), against that process with no agents running.

Run: `.venv/bin/python bench/bench_agents.py` (PostgreSQL and Redis as for the tests;
its own database `stgy_bench_agents`, emptied at each run).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import bench_config, prepare_database, report, say  # noqa: E402
from stgy.domain import admin, follows, posts  # noqa: E402
from stgy.domain.agents import manage  # noqa: E402
from stgy.domain.agents import runtime as agent_runtime  # noqa: E402
from stgy.domain.agents.run import run_agent  # noqa: E402
from stgy.domain.agents.runtime import AgentRuntime  # noqa: E402
from stgy.jobs import AGENTS_QUEUE, RUN_AGENT, agent_job_key  # noqa: E402
from stgy.services import Services  # noqa: E402
from tests.agents.fake_model import start_fake_model  # noqa: E402

AGENTS = 100
WINDOW = 10_000
DIMS = 768
FOLLOWERS = 200
FANOUT_POSTS = 20
RANKS = 200


async def _empty(services: Services) -> None:
    await admin.reset_data(services)
    async with services.pool.acquire() as conn:
        await conn.execute("TRUNCATE post_summaries, agents, agent_impressions")
    for queue in services.jobs.queues.values():
        keys = [k async for k in services.redis.scan_iter(match=f"saq:{queue.name}:*")]
        if keys:
            await services.redis.delete(*keys)


async def _people(services: Services, count: int, prefix: str) -> list[int]:
    ids = []
    for n in range(count):
        handle = f"{prefix}{n}"
        ids.append(
            await admin.create_user(
                services,
                handle=handle,
                email=f"{handle}@example.com",
                password="correct battery staple horse",  # noqa: S106 - bench accounts
                role="user",
            )
        )
    return ids


async def _summaries(services: Services, author: int) -> None:
    """10,000 public posts with summaries of random unit embeddings, set-based."""
    rng = np.random.default_rng(7)
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO posts (id, account_id, ap_id, url, source, html, visibility)"
            " SELECT stgy_next_id(), $1, 'bench:' || g, NULL, 'post ' || g, '<p>post</p>',"
            " 'public' FROM generate_series(1, $2) g",
            author,
            WINDOW,
        )
        ids = [
            r["id"] for r in await conn.fetch("SELECT id FROM posts WHERE account_id = $1", author)
        ]
        vectors = rng.standard_normal((len(ids), DIMS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        await conn.copy_records_to_table(
            "post_summaries",
            records=[(i, "a post", [], v.tolist()) for i, v in zip(ids, vectors, strict=True)],
            columns=["post_id", "summary", "tags", "embedding"],
        )


async def bench_ranking(services: Services) -> None:
    runtime = AgentRuntime.make(services.config)
    started = time.perf_counter()
    async with services.pool.acquire() as conn:
        await runtime.window.refresh(conn)
    report("agent_window_load_ms", (time.perf_counter() - started) * 1000, "ms")
    interests = np.random.default_rng(1).standard_normal(DIMS)
    vector = (interests / np.linalg.norm(interests)).tolist()
    times = []
    for _ in range(RANKS):
        t = time.perf_counter()
        async with services.pool.acquire() as conn:
            await runtime.window.refresh(conn)  # nothing new: one query
        runtime.window.rank(vector, exclude=set(), limit=20)
        times.append((time.perf_counter() - t) * 1000)
    report("agent_rank_10k_ms", statistics.median(times), "ms (median, 768 dims)")
    await runtime.aclose()


class _TimedModel:
    """Wraps the model client's calls to add up the time spent waiting on them."""

    def __init__(self, runtime: AgentRuntime) -> None:
        self.waited = 0.0
        model = runtime.model
        chat, embed = model.chat, model.embed

        async def timed_chat(**kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return await chat(**kwargs)
            finally:
                self.waited += time.perf_counter() - t

        async def timed_embed(texts: list[str]) -> Any:
            t = time.perf_counter()
            try:
                return await embed(texts)
            finally:
                self.waited += time.perf_counter() - t

        model.chat = timed_chat  # type: ignore[method-assign]
        model.embed = timed_embed  # type: ignore[method-assign]


async def bench_runs(services: Services, agents: list[int], person: int, fake: Any) -> None:
    fake.default = {
        "posts": [{"post": "p1", "impression": "nice", "action": "like", "reply": ""}],
        "accounts": [],
        "new_post": "",
        "interests": "",
        "interest_tags": [],
    }
    runtime = AgentRuntime.make(services.config)
    timer = _TimedModel(runtime)
    # No worker takes this process's default queue here, and the runs' likes put jobs
    # on it: a run would wait for it (yield_to_urgent) at each model call. That wait is
    # not the run's own overhead; how agents give way is measured by bench_fanout.
    saved, agent_runtime.URGENT_MAX_WAIT = agent_runtime.URGENT_MAX_WAIT, 0.0
    for n in range(AGENTS):
        await posts.create_post(services, person, posts.PostDraft(text=f"hello agents {n}"))
    async with services.pool.acquire() as conn:
        # What fan-out would have written: the person's posts on every agent's home.
        await conn.execute(
            "INSERT INTO timeline_entries (owner_id, post_id, author_id)"
            " SELECT g, p.id, p.account_id FROM unnest($1::bigint[]) g, posts p"
            " WHERE p.account_id = $2 ON CONFLICT DO NOTHING",
            agents,
            person,
        )
        await runtime.window.refresh(conn)  # the window held, as in a running worker
    walls = []
    for account_id in agents:
        waited = timer.waited
        t = time.perf_counter()
        done = await run_agent(services, runtime, account_id)
        wall = time.perf_counter() - t
        walls.append((wall - (timer.waited - waited)) * 1000)
        assert done.did, done
    report("agent_run_overhead_ms", statistics.mean(walls), "ms per agent (mean)")
    report("agent_run_overhead_p90_ms", sorted(walls)[int(len(walls) * 0.9)], "ms per agent")
    agent_runtime.URGENT_MAX_WAIT = saved
    await runtime.aclose()


async def _fanout_latency(services: Services, author: int, followers: int) -> float:
    times = []
    for n in range(FANOUT_POSTS):
        created = await posts.create_post(services, author, posts.PostDraft(text=f"fan {n}"))
        t = time.perf_counter()
        while True:
            async with services.pool.acquire() as conn:
                count = await conn.fetchval(
                    "SELECT count(*) FROM timeline_entries WHERE post_id = $1", created.view.id
                )
            if count >= followers + 1:
                break
            await asyncio.sleep(0.002)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _worker(env: dict[str, str], queues: str, nice: int = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own command
        ["nice", "-n", str(nice), sys.executable, "-m", "stgy", "worker", "--queues", queues],
        env={**env, "STGY_SERVER_WORKER_CLASS": "asyncio"},
        stderr=subprocess.DEVNULL,
    )


async def _empty_queue(services: Services) -> None:
    queue = services.jobs.queues[AGENTS_QUEUE]
    keys = [k async for k in services.redis.scan_iter(match=f"saq:{queue.name}:*")]
    if keys:
        await services.redis.delete(*keys)


async def _enqueue_runs(services: Services, agents: list[int], round_: int) -> None:
    async with services.pool.acquire() as conn:
        await conn.execute("UPDATE agents SET seen_post_id = 0, seen_notification_id = 0")
    for account_id in agents:
        key = f"{agent_job_key(RUN_AGENT, account_id)}:bench{round_}"
        await services.jobs.enqueue(RUN_AGENT, key=key, account_id=account_id)


async def bench_fanout(services: Services, env: dict[str, str], agents: list[int]) -> None:
    """Fan-out by a `stgy worker --queues default` process, alone and while a
    `stgy worker --queues agents` process runs 100 agents (the fake model in this one);
    then the same with both queues in one process (`stgy worker`'s default)."""
    author, *readers = await _people(services, FOLLOWERS + 1, "fan")
    for reader in readers:
        await follows.follow(services, reader, author)
    default = _worker(env, "default")
    await asyncio.sleep(3.0)
    try:
        baseline = await _fanout_latency(services, author, FOLLOWERS)
        agents_worker = _worker(env, "agents", nice=10)
        try:
            await asyncio.sleep(2.0)
            await _enqueue_runs(services, agents, 1)
            await asyncio.sleep(0.2)
            apart = await _fanout_latency(services, author, FOLLOWERS)
            left = await services.jobs.queues[AGENTS_QUEUE].count("queued")
            say(f"agent runs still queued after the fan-out posts: {left}")
        finally:
            agents_worker.terminate()
            agents_worker.wait()
    finally:
        default.terminate()
        default.wait()
    report("fanout_latency_agents_apart_ms", apart, "ms (median, agents at nice 10)", baseline)
    await _empty_queue(services)
    both = _worker(env, "default,agents")
    try:
        await asyncio.sleep(3.0)
        alone = await _fanout_latency(services, author, FOLLOWERS)
        await _enqueue_runs(services, agents, 2)
        await asyncio.sleep(0.2)
        together = await _fanout_latency(services, author, FOLLOWERS)
    finally:
        both.terminate()
        both.wait()
    report("fanout_latency_agents_same_process_ms", together, "ms (median)", alone)


async def main() -> None:
    fake, server = start_fake_model()
    bench = bench_config(
        "stgy_bench_agents",
        ai_enabled=True,
        ai_base_url=fake.url,
        ai_requests_per_minute=1_000_000,
        ai_concurrency=8,
        ai_window_posts=WINDOW,
        ai_actions_per_run=1,
    )
    prepare_database(bench.env)
    services = await Services.start(bench.config)
    try:
        await _empty(services)
        say("seeding 10,000 summaries and 100 agents")
        (author,) = await _people(services, 1, "writer")
        await _summaries(services, author)
        agents = []
        for n in range(AGENTS):
            made = await manage.create_agent(
                services, handle=f"agent{n}", persona=f"Agent number {n}.", language="en"
            )
            agents.append(made.account_id)
        await bench_ranking(services)
        (person,) = await _people(services, 1, "talker")
        for account_id in agents:
            await follows.follow(services, account_id, person)
        await bench_runs(services, agents, person, fake)
        random.shuffle(agents)
        await bench_fanout(services, bench.env, agents)
    finally:
        await services.close()
        server.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
