"""Posting and fan-out: request time must not grow with followers; fan-out time per post.

* `POST /api/posts` p50/p99 for an author with 10 and with 10,000 local followers
  (the ratio shows whether the request waits on fan-out: it must not).
* Fan-out of one post to 10,000 local followers: wall time from the 201 (the
  commit) until the last home-timeline row is visible, p50 over 20 posts, beside a
  bare `INSERT ... SELECT` of 10,000 rows measured in the same run.
The server and one worker run as `stgy serve` and `stgy worker` on the bench database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    REPO_ROOT,
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    prepare_database,
    report,
    say,
    start_server,
)
from storage import seed  # noqa: E402

PASSWORD = "bench password 1"  # noqa: S105 - a throw-away bench account


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def make_author(client: httpx.AsyncClient, handle: str) -> tuple[int, str]:
    await client.post(
        "/api/accounts",
        json={"handle": handle, "password": PASSWORD, "email": f"{handle}@bench.test"},
    )
    login = await client.post("/api/auth/login", json={"handle": handle, "password": PASSWORD})
    login.raise_for_status()
    body = login.json()
    return int(body["account"]["id"]), body["token"]


async def setup(database_url: str, base_url: str, followers: int) -> list[int]:
    conn = await asyncpg.connect(database_url)
    try:
        await seed.truncate_all(conn)
        keys_pem = "-----BEGIN PUBLIC KEY-----\nbench\n-----END PUBLIC KEY-----\n"
        await seed.insert_accounts(
            conn, first=1, last=followers, base_url=base_url, public_key_pem=keys_pem
        )
        return await seed.seeded_account_ids(conn)
    finally:
        await conn.close()


async def post_times(
    client: httpx.AsyncClient, token: str, count: int, conn: asyncpg.Connection | None = None
) -> tuple[list[float], list[int]]:
    """Time `count` posts; with `conn`, each waits until the previous one's jobs are done."""
    times, ids = [], []
    for i in range(count):
        if conn is not None:
            await drained(conn, quiet=True)
        started = time.perf_counter()
        response = await client.post(
            "/api/posts",
            json={"text": f"Bench post {i} #bench"},
            headers={"Authorization": f"Bearer {token}"},
        )
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        ids.append(int(response.json()["id"]))
    return times, ids


async def drained(conn: asyncpg.Connection, timeout: float = 600, quiet: bool = False) -> None:
    """Wait until every outbox event is done (the fan-out backlog of the timed posts)."""
    started = time.perf_counter()
    while await conn.fetchval("SELECT count(*) FROM outbox_events WHERE done_at IS NULL"):
        if time.perf_counter() - started > timeout:
            raise RuntimeError("the worker did not drain its backlog")
        await asyncio.sleep(0.005)
    if not quiet:
        say(f"backlog drained in {time.perf_counter() - started:.1f} s")


async def fan_out_time(
    client: httpx.AsyncClient, conn: asyncpg.Connection, token: str, expected: int
) -> float:
    response = await client.post(
        "/api/posts",
        json={"text": "Fan-out probe"},
        headers={"Authorization": f"Bearer {token}"},
    )
    committed = time.perf_counter()
    response.raise_for_status()
    post_id = int(response.json()["id"])
    while True:
        n = await conn.fetchval("SELECT count(*) FROM timeline_entries WHERE post_id = $1", post_id)
        if n >= expected:
            return (time.perf_counter() - committed) * 1000
        if time.perf_counter() - committed > 30:
            raise RuntimeError(f"fan-out incomplete after 30 s: {n} of {expected} rows")
        await asyncio.sleep(0.001)


async def run(args: argparse.Namespace) -> None:
    # The benchmark posts far faster than the per-address write limit allows people.
    bench = bench_config(database="stgy_bench_posting", limits_rate_limit_requests_per_minute=10**9)
    prepare_database(bench.env)
    db_url = bench.config.database.url
    followers = await setup(db_url, bench.config.instance.base_url, args.followers)
    say(f"{len(followers)} follower accounts ready")

    log = VAR_DIR / "posting-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        start_server(
            STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=VAR_DIR / "posting-serve.log"
        ),
        log.open("wb") as out,
    ):
        worker = subprocess.Popen(  # noqa: S603, ASYNC220 - started once, before timing
            [sys.executable, "-m", "stgy", "worker"],
            env=bench.env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=out,
        )
        try:
            async with httpx.AsyncClient(base_url=bench.base_url, timeout=30) as client:
                small_id, small_token = await make_author(client, "author_small")
                big_id, big_token = await make_author(client, "author_big")
                conn = await asyncpg.connect(db_url)
                try:
                    await seed.follow_all(conn, followee_id=small_id, follower_ids=followers[:10])
                    await seed.follow_all(conn, followee_id=big_id, follower_ids=followers)
                    await post_times(client, small_token, 20)  # warm-up
                    # Request time alone: each post waits for the previous fan-out. The
                    # two authors take turns, so both meet the same database (autovacuum,
                    # checkpoints after the big fan-outs) and the same machine.
                    small, big = [], []
                    for _ in range(args.posts):
                        small += (await post_times(client, small_token, 1, conn))[0]
                        big += (await post_times(client, big_token, 1, conn))[0]
                    # Back to back: the worker fans out while requests arrive (2 cores).
                    busy, _ = await post_times(client, big_token, args.posts)
                    await drained(conn)  # the probes below run on an idle worker
                    fanouts = [
                        await fan_out_time(client, conn, big_token, len(followers) + 1)
                        for _ in range(args.fanouts)
                    ]
                    bare = []
                    for _ in range(args.fanouts):
                        started = time.perf_counter()
                        async with conn.transaction():
                            await seed.bare_insert_select(conn, rows=len(followers))
                        bare.append((time.perf_counter() - started) * 1000)
                finally:
                    await conn.close()
        finally:
            worker.terminate()
            worker.wait(15)

    report("post_p50_10_followers", statistics.median(small), "ms")
    report("post_p99_10_followers", percentile(small, 99), "ms")
    report("post_p50_10k_followers", statistics.median(big), "ms", statistics.median(small))
    report("post_p99_10k_followers", percentile(big, 99), "ms", percentile(small, 99))
    report("post_p50_10k_busy_worker", statistics.median(busy), "ms", statistics.median(small))
    report("post_p99_10k_busy_worker", percentile(busy, 99), "ms", percentile(small, 99))
    report("fanout_10k_p50", statistics.median(fanouts), "ms", statistics.median(bare))
    report("fanout_10k_max", max(fanouts), "ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200, help="posts timed per author")
    parser.add_argument("--fanouts", type=int, default=20, help="posts timed for fan-out")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
