"""Delivery: signed deliveries per second from one worker process, and the fan-out of one
post to 10,000 remote followers spread over 500 instances.

* deliveries/s: N `deliver_activity` jobs (each a distinct inbox on one of 500 instances,
  `i{n}.localhost:PORT`, all served by a bare loopback inbox that answers 202) worked by
  one `stgy worker`, timed from the first POST received to the last; printed beside the
  ceilings measured in the same run: RSA-2048 signatures/s on one core, a bare SAQ
  worker's no-op jobs/s (same concurrency), and bare httpx POSTs/s (10 and 50 at once).
* fan-out: a post (through the API) by an account with 10,000 remote followers on 500
  instances: deliveries made (must equal the 500 distinct shared inboxes) and the time
  from the 201 until the last one arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import orjson  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from saq import Queue  # noqa: E402

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    REPO_ROOT,
    STGY_SERVE,
    VAR_DIR,
    BenchConfig,
    bench_config,
    free_port,
    prepare_database,
    report,
    say,
    start_server,
)
from stgy.domain.admin import create_user  # noqa: E402
from stgy.domain.remote.delivery import enqueue_deliveries  # noqa: E402
from stgy.services import Services  # noqa: E402
from storage import seed  # noqa: E402

PASSWORD = "bench password 1"  # noqa: S105 - a throw-away bench account
INSTANCES = 500


async def receiver_counts(client: httpx.AsyncClient, url: str) -> dict[str, float]:
    found: dict[str, float] = (await client.get(f"{url}/count")).json()
    return found


async def wait_for_posts(
    client: httpx.AsyncClient, url: str, expected: int, timeout: float = 600
) -> dict[str, float]:
    started = time.monotonic()
    while True:
        counts = await receiver_counts(client, url)
        if counts["posts"] >= expected:
            return counts
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"only {counts['posts']} of {expected} deliveries arrived")
        await asyncio.sleep(0.02)


def rsa_signs_per_second(seconds: float = 2.0) -> float:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"(request-target): post /inbox\nhost: example.com\ndate: x\ndigest: y"
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        done += 1
    return done / (time.perf_counter() - started)


async def saq_noop_jobs_per_second(env: dict[str, str], jobs: int, concurrency: int) -> float:
    name = f"bench-noop-{free_port()}"
    queue = Queue.from_url(env["REDIS_URL"], name=name)
    await queue.connect()
    try:
        for _ in range(jobs):
            await queue.enqueue("noop", timeout=10, retries=1)
        worker = subprocess.Popen(  # noqa: S603, ASYNC220 - started once, before timing
            [
                sys.executable,
                str(REPO_ROOT / "bench" / "noop_saq_worker.py"),
                name,
                str(concurrency),
            ],
            env=env,
        )
        started = time.perf_counter()
        try:
            while await queue.count("incomplete"):  # noqa: ASYNC110 - polling another process
                await asyncio.sleep(0.01)
            return jobs / (time.perf_counter() - started)
        finally:
            worker.terminate()
            worker.wait(15)
    finally:
        await queue.disconnect()


async def httpx_posts_per_second(url: str, body: bytes, total: int, concurrency: int) -> float:
    async with httpx.AsyncClient() as client:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                host = f"i{i % INSTANCES}.localhost"
                response = await client.post(
                    f"{url}/users/u{i}/inbox", content=body, headers={"Host": host}
                )
                response.raise_for_status()

        await one(0)
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        return total / (time.perf_counter() - started)


async def seed_followers(conn: asyncpg.Connection, author_id: int, port: int, n: int) -> None:
    """`n` remote accounts on INSTANCES instances, each with the same shared inbox per
    instance, all following the author (set-based: this is bench set-up, not app code)."""
    await conn.execute(
        "INSERT INTO accounts (handle, domain, ap_id, inbox_url, shared_inbox_url)"
        " SELECT 'f' || g, 'i' || (g % $2) || '.localhost:' || $3,"
        " 'http://i' || (g % $2) || '.localhost:' || $3 || '/users/f' || g,"
        " 'http://i' || (g % $2) || '.localhost:' || $3 || '/users/f' || g || '/inbox',"
        " 'http://i' || (g % $2) || '.localhost:' || $3 || '/inbox'"
        " FROM generate_series(1, $1) AS g",
        n,
        INSTANCES,
        str(port),
    )
    await conn.execute(
        "INSERT INTO follows (follower_id, followee_id, state, accepted_at)"
        " SELECT id, $1, 'accepted', now() FROM accounts WHERE domain LIKE 'i%.localhost:%'",
        author_id,
    )
    await conn.execute("UPDATE accounts SET followers_count = $2 WHERE id = $1", author_id, n)


async def run(args: argparse.Namespace) -> None:
    bench = bench_config(
        database="stgy_bench_delivery",
        federation_allow_private_addresses=True,
        worker_concurrency=args.concurrency,
        limits_rate_limit_requests_per_minute=10**9,
    )
    prepare_database(bench.env)
    db_url = bench.config.database.url
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    receiver = subprocess.Popen(  # noqa: S603, ASYNC220 - started once, before timing
        [sys.executable, str(REPO_ROOT / "bench" / "inbox_receiver.py"), str(port)], env=bench.env
    )
    services = await Services.start(bench.config)
    client = httpx.AsyncClient(timeout=30)
    try:
        for _ in range(100):
            try:
                await receiver_counts(client, receiver_url)
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        conn = await asyncpg.connect(db_url)
        try:
            await seed.truncate_all(conn)
        finally:
            await conn.close()
        # An earlier run's leftover jobs would be counted: start from an empty queue.
        stale = [k async for k in services.redis.scan_iter(match="saq:*stgy-bench*")]
        if stale:
            await services.redis.delete(*stale)
        author_id = await create_user(
            services, handle="author", email="author@bench.test", password=PASSWORD, role="user"
        )

        # Ceilings, same run.
        signs = rsa_signs_per_second()
        noop = await saq_noop_jobs_per_second(bench.env, args.deliveries, args.concurrency)
        body = orjson.dumps({"id": "x", "type": "Create", "object": {"content": "y" * 600}})
        bare10 = await httpx_posts_per_second(receiver_url, body, args.deliveries // 2, 10)
        bare50 = await httpx_posts_per_second(receiver_url, body, args.deliveries // 2, 50)
        await client.delete(f"{receiver_url}/count")

        # Deliveries/s: enqueue first, then one worker works them.
        say(f"enqueueing {args.deliveries} deliveries")
        async with services.pool.acquire() as conn, conn.transaction():
            for i in range(args.deliveries):
                inbox = f"http://i{i % INSTANCES}.localhost:{port}/users/u{i}/inbox"
                await enqueue_deliveries(
                    conn,
                    sender_id=author_id,
                    inbox_urls=[inbox],
                    activity_id=f"{bench.config.instance.base_url}/bench/{i}",
                    body=body,
                )
        log = VAR_DIR / "delivery-worker.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            worker = subprocess.Popen(  # noqa: S603, ASYNC220 - started once, before timing
                [sys.executable, "-m", "stgy", "worker"], env=bench.env, stdout=out, stderr=out
            )
            spy = None
            if args.profile:
                # py-spy (pip install py-spy) samples the worker; folded stacks to the file,
                # written when the worker exits.
                spy = subprocess.Popen(  # noqa: S603, ASYNC220
                    ["py-spy", "record", "--format", "raw", "-o", args.profile,
                     "-p", str(worker.pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            try:
                counts = await wait_for_posts(client, receiver_url, args.deliveries)
                rate = (counts["posts"] - 1) / max(counts["last"] - counts["first"], 1e-9)

                # Fan-out of one post to 10,000 remote followers on 500 instances.
                conn = await asyncpg.connect(db_url)
                try:
                    await seed_followers(conn, author_id, port, args.followers)
                finally:
                    await conn.close()
                await client.delete(f"{receiver_url}/count")
                fanout_ms, fanout_posts, fanout_hosts = await fan_out(bench, client, receiver_url)
            finally:
                worker.terminate()
                worker.wait(15)
                if spy is not None:
                    spy.wait(30)
    finally:
        await client.aclose()
        await services.close()
        receiver.terminate()
        receiver.wait(15)

    report("rsa2048_signs_per_s", signs, "signs/s")
    report("saq_noop_jobs_per_s", noop, "jobs/s")
    report("httpx_posts_per_s_c10", bare10, "req/s")
    report("httpx_posts_per_s_c50", bare50, "req/s")
    report(f"deliveries_per_s_c{args.concurrency}", rate, "deliveries/s", noop)
    report("fanout_10k_followers_deliveries", fanout_posts, "deliveries", INSTANCES)
    report("fanout_10k_followers_instances_reached", fanout_hosts, "instances", INSTANCES)
    report("fanout_10k_followers_drain", fanout_ms, "ms")


async def fan_out(
    bench: BenchConfig, client: httpx.AsyncClient, receiver_url: str
) -> tuple[float, int, int]:
    log = VAR_DIR / "delivery-serve.log"
    with start_server(STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=log):
        api = httpx.AsyncClient(base_url=bench.base_url, timeout=30)
        try:
            login = await api.post(
                "/api/auth/login", json={"handle": "author", "password": PASSWORD}
            )
            login.raise_for_status()
            token = login.json()["token"]
            response = await api.post(
                "/api/posts",
                json={"text": "to 10,000 remote followers"},
                headers={"Authorization": f"Bearer {token}"},
            )
            committed = time.monotonic()
            response.raise_for_status()
        finally:
            await api.aclose()
        counts = await wait_for_posts(client, receiver_url, INSTANCES)
        drained_ms = (counts["last"] - committed) * 1000
        await asyncio.sleep(2.0)  # anything beyond one per shared inbox would show up here
        counts = await receiver_counts(client, receiver_url)
    return drained_ms, int(counts["posts"]), int(counts["hosts"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=20, help="worker concurrency")
    parser.add_argument("--profile", help="write the worker's py-spy samples (folded) here")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
