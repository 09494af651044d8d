"""The Mastodon home timeline (40 statuses): requests/s against the bare hello-world app,
and p99 as the posts table grows from 100k to 1M posts.

`GET /api/v1/timelines/home?limit=40` for user42, with a Mastodon app's token, at 32
connections, on the databases seeded with 10,000 users and 100,000 posts, and with
1,000,000 posts (bench_home_timeline.py's "100k" and "1m", kept between runs; seeding
the big one takes minutes), and the hello-world app of bench_healthz.py, the loads taken
in turn for a few rounds (medians). The page is assembled from the same in-memory
renderings as the native page (a second format: stgy/mastodon/status_entities.py).
Targets: at least 0.3x the hello-world app's requests/s, and p99 flat (1m within about
20% of 100k). Also printed: the native JSON page of 40 on each database, for scale.

`--filtered`: user42 has a `warn` filter of the home context for the run (a keyword
about one status in ten has, so each page is read back, matched and written again);
it is deleted at the end.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.bench_home_timeline import SIZES, ensure_seeded  # noqa: E402
from bench.bench_home_timeline import token_for as native_token  # noqa: E402
from bench.common import (  # noqa: E402 - needs the repo root on sys.path
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
from bench.load import Load, interleaved, run_load  # noqa: E402
from tests.mastodon.conftest import (  # noqa: E402 - the same OAuth steps as the tests
    Person,
    authorise,
    register_app,
    token_for,
    web_log_in,
)


def mastodon_token(base_url: str, handle: str, scopes: str = "read") -> str:
    """Register an app, log in on the web form, approve it, exchange the code."""
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        app = register_app(browser, scopes=scopes)
        web_log_in(browser, Person(handle, "test-password", ""))
        query = authorise(browser, app)
        answer = token_for(browser, app, query["code"][0])
        answer.raise_for_status()
        return str(answer.json()["access_token"])


@dataclass(frozen=True)
class SizedServer:
    """A server on one seeded database: its Mastodon home load, the native one, page size."""

    mastodon: Callable[[], Load]
    native: Callable[[], Load]
    page_bytes: int


@contextmanager
def mastodon_server(size: str, args: argparse.Namespace) -> Iterator[SizedServer]:
    database, per_user = SIZES[size]
    # The Mastodon API's rate limit is counted on every request (a Redis round trip, in
    # the figure) but set out of reach: one token at 32 connections would be over it.
    bench = bench_config(database=database, limits_mastodon_requests=10**9)
    prepare_database(bench.env)
    ensure_seeded(bench.env, bench.config.database.url, per_user)
    with start_server(
        STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=VAR_DIR / f"mastodon-{size}.log"
    ):
        token = mastodon_token(bench.base_url, "user42", "read write:filters")
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{bench.base_url}/api/v1/timelines/home?limit=40"
        filter_id = None
        if args.filtered:
            made = httpx.post(
                f"{bench.base_url}/api/v2/filters",
                headers=headers,
                json={
                    "title": "bench",
                    "context": ["home"],
                    "keywords_attributes": [{"keyword": "topic2", "whole_word": True}],
                },
            )
            made.raise_for_status()
            filter_id = made.json()["id"]
        page = httpx.get(url, headers=headers)
        page.raise_for_status()
        statuses = page.json()
        marked = sum(1 for status in statuses if status["filtered"])
        say(
            f"{size}: Mastodon home has {len(statuses)} statuses ({marked} marked by a"
            f" filter), {len(page.content)} bytes"
        )
        native = {"Authorization": f"Bearer {native_token(bench.base_url, 'user42')}"}
        native_url = f"{bench.base_url}/api/timelines/home?limit=40"
        yield SizedServer(
            mastodon=lambda: run_load(
                url, args.connections, args.duration, args.threads, headers=headers
            ),
            native=lambda: run_load(
                native_url, args.connections, args.duration, args.threads, headers=native
            ),
            page_bytes=len(page.content),
        )
        if filter_id is not None:
            gone = httpx.delete(f"{bench.base_url}/api/v2/filters/{filter_id}", headers=headers)
            gone.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the loads")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--filtered", action="store_true", help="with a filter of home")
    parser.add_argument(
        "--small-only", action="store_true", help="only the 100k database (no 1m seeding)"
    )
    args = parser.parse_args()
    bench = bench_config()
    bind = f"127.0.0.1:{free_port()}"
    sizes = ["100k"] if args.small_only else ["1m", "100k"]
    with ExitStack() as stack:
        servers = {size: stack.enter_context(mastodon_server(size, args)) for size in sizes}
        stack.enter_context(
            start_server(hello_argv(bind), bench.env, f"http://{bind}/", log=VAR_DIR / "hello.log")
        )
        hello_url = f"http://{bind}/"
        loads: dict[str, Callable[[], Load]] = {
            "hello": lambda: run_load(hello_url, args.connections, args.duration, args.threads)
        }
        for size, server in servers.items():
            loads[size] = server.mastodon
            loads[f"{size} native"] = server.native
        got = interleaved(loads, args.rounds)
    hello = got["hello"]
    for size in sizes:
        mastodon, native = got[size], got[f"{size} native"]
        report(f"mastodon_home_rps_{size}_posts", mastodon.rps, "req/s", hello.rps)
        report(f"mastodon_home_p50_{size}_posts", mastodon.p50_ms, "ms", hello.p50_ms)
        report(f"mastodon_home_vs_native_rps_{size}_posts", mastodon.rps, "req/s", native.rps)
        report(f"mastodon_home_bytes_{size}_posts", servers[size].page_bytes, "bytes")
    report("mastodon_home_p99_100k_posts", got["100k"].p99_ms, "ms", hello.p99_ms)
    if "1m" in got:
        # Flat means the ratio stays near 1 (within about 20%).
        report("mastodon_home_p99_1m_posts", got["1m"].p99_ms, "ms", got["100k"].p99_ms)
    errors = sum(load.errors for load in got.values())
    report("mastodon_home_errors", errors, "responses")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
