"""Home timeline reads: requests/s against a bare Quart app; p99 as the posts table grows.

`GET /api/timelines/home` (100 posts a page) at 32 connections for users of a
database seeded with 10,000 users and 1,000,000 posts (`stgy reset-data-test
--users 10000 --posts-per-user 100 --follows-per-user 100`), and the same on a
database of 100,000 posts: the p99 should stay flat (within about 20%). The
baseline is a bare Quart hello-world under the same Hypercorn settings, same run;
a second hello-world runs with stgy's garbage-collector thresholds as well, which
speed it up too (the ratio against it is printed beside).
One more server on the big database keeps no renderings in memory
(`server.rendering_cache_mb = 0`): what a page costs when the process lacks them
and reads them from the stored ones (a new process, or a cache too small).
Seeded databases are kept between runs (seeding the big one takes minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    REPO_ROOT,
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    free_port,
    hello_argv,
    prepare_database,
    report,
    say,
    start_server,
)
from bench.load import Load, interleaved, profiled, run_load  # noqa: E402

SIZES = {"100k": ("stgy_bench100k", 10), "1m": ("stgy_bench1m", 100)}
USERS = 10_000
FOLLOWS = 100


async def post_count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM posts"))
    finally:
        await conn.close()


def ensure_seeded(env: dict[str, str], url: str, posts_per_user: int) -> None:
    if asyncio.run(post_count(url)) >= USERS * posts_per_user * 0.99:
        return
    say(f"seeding {url.rsplit('/', 1)[-1]}: {USERS} users x {posts_per_user} posts (minutes)")
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "stgy",
            "reset-data-test",
            "--users",
            str(USERS),
            "--posts-per-user",
            str(posts_per_user),
            "--follows-per-user",
            str(FOLLOWS),
            "--yes",
        ],
        env=env,
        cwd=REPO_ROOT,
        check=True,
    )


def token_for(base_url: str, handle: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"handle": handle, "password": "test-password"}
    )
    response.raise_for_status()
    return str(response.json()["token"])


@contextmanager
def timeline_server(
    size: str, args: argparse.Namespace, *, memory: bool = True
) -> Iterator[Callable[[], Load]]:
    """A server on the database of `size`, as a load to run (with a profile if asked);
    without `memory`, one that keeps no renderings in memory."""
    database, per_user = SIZES[size]
    bench = bench_config(database=database, **({} if memory else {"server_rendering_cache_mb": 0}))
    prepare_database(bench.env)
    ensure_seeded(bench.env, bench.config.database.url, per_user)
    with start_server(
        STGY_SERVE,
        bench.env,
        f"{bench.base_url}/healthz",
        log=VAR_DIR / f"timeline-{size}{'' if memory else '-stored'}.log",
    ) as server:
        headers = {"Authorization": f"Bearer {token_for(bench.base_url, 'user42')}"}
        url = f"{bench.base_url}/api/timelines/home?limit=100"
        check = httpx.get(url, headers=headers)
        check.raise_for_status()
        say(f"{size}: a page has {len(check.json()['posts'])} posts, {len(check.content)} bytes")
        profile = args.profile.with_name(f"{size}-{args.profile.name}") if args.profile else None
        profiles = [profile] if memory else []

        def load() -> Load:
            # Only the first round is profiled (py-spy slows what it samples).
            with profiled(server.pid, args.duration, profiles.pop() if profiles else None):
                return run_load(url, args.connections, args.duration, headers=headers)

        yield load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the five loads")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--profile", type=Path, help="py-spy profiles of the server, one per size (.txt: folded)"
    )
    args = parser.parse_args()
    bench = bench_config()
    bind = f"127.0.0.1:{free_port()}"
    tuned_bind = f"127.0.0.1:{free_port()}"
    with (
        timeline_server("1m", args) as big_load,
        timeline_server("100k", args) as small_load,
        timeline_server("1m", args, memory=False) as stored_load,
        start_server(
            hello_argv(bind), bench.env, f"http://{bind}/", log=VAR_DIR / "timeline-hello.log"
        ),
        start_server(
            hello_argv(tuned_bind, tuned_gc=True),
            bench.env,
            f"http://{tuned_bind}/",
            log=VAR_DIR / "timeline-hello-gc.log",
        ),
    ):
        loads = {
            "hello": lambda: run_load(f"http://{bind}/", args.connections, args.duration),
            "hello, stgy's GC thresholds": lambda: run_load(
                f"http://{tuned_bind}/", args.connections, args.duration
            ),
            "1m": big_load,
            "100k": small_load,
            "1m, stored renderings only": stored_load,
        }
        got = interleaved(loads, args.rounds)
    hello, big, small = got["hello"], got["1m"], got["100k"]
    stored = got["1m, stored renderings only"]
    tuned = got["hello, stgy's GC thresholds"]
    report("home_timeline_rps_1m_posts", big.rps, "req/s", hello.rps)
    report("home_timeline_p50_1m_posts", big.p50_ms, "ms", hello.p50_ms)
    report("home_timeline_p99_1m_posts", big.p99_ms, "ms", small.p99_ms)
    report("home_timeline_rps_100k_posts", small.rps, "req/s", hello.rps)
    report("home_timeline_p50_100k_posts", small.p50_ms, "ms")
    report("home_timeline_p99_100k_posts", small.p99_ms, "ms")
    report("home_timeline_rps_1m_posts_vs_gc_tuned_hello", big.rps, "req/s", tuned.rps)
    report("home_timeline_rps_1m_posts_stored_only", stored.rps, "req/s", hello.rps)
    report("home_timeline_p99_1m_posts_stored_only", stored.p99_ms, "ms", big.p99_ms)
    errors = big.errors + small.errors + stored.errors
    report("home_timeline_errors", errors, "responses")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
