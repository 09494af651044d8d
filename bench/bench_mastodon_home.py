"""The Mastodon home timeline (40 statuses) against the bare hello-world app: requests/s.

`GET /api/v1/timelines/home?limit=40` for user42 of the database seeded with 10,000
users and 100,000 posts (bench_home_timeline.py's "100k", kept between runs), with a
Mastodon app's token, at 32 connections; then the hello-world app of bench_healthz.py
under the same load. The page is assembled from the same in-memory renderings as the
native page (a second format: stgy/mastodon/status_entities.py). Target: at least 0.3x
the hello-world app's requests/s. Also printed: the native JSON page of 40 for scale.
"""

from __future__ import annotations

import argparse
import sys
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
from bench.load import run_load  # noqa: E402
from tests.mastodon.conftest import (  # noqa: E402 - the same OAuth steps as the tests
    Person,
    authorise,
    register_app,
    token_for,
    web_log_in,
)


def mastodon_token(base_url: str, handle: str) -> str:
    """Register an app, log in on the web form, approve it, exchange the code."""
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        app = register_app(browser, scopes="read")
        web_log_in(browser, Person(handle, "test-password", ""))
        query = authorise(browser, app)
        answer = token_for(browser, app, query["code"][0])
        answer.raise_for_status()
        return str(answer.json()["access_token"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10, help="seconds of measured load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    database, per_user = SIZES["100k"]
    # The Mastodon API's rate limit is counted on every request (a Redis round trip, in
    # the figure) but set out of reach: one token at 32 connections would be over it.
    bench = bench_config(database=database, limits_mastodon_requests=10**9)
    prepare_database(bench.env)
    ensure_seeded(bench.env, bench.config.database.url, per_user)
    with start_server(
        STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=VAR_DIR / "mastodon-home.log"
    ):
        headers = {"Authorization": f"Bearer {mastodon_token(bench.base_url, 'user42')}"}
        url = f"{bench.base_url}/api/v1/timelines/home?limit=40"
        page = httpx.get(url, headers=headers)
        page.raise_for_status()
        say(f"Mastodon home: {len(page.json())} statuses, {len(page.content)} bytes")
        native = {"Authorization": f"Bearer {native_token(bench.base_url, 'user42')}"}
        native_url = f"{bench.base_url}/api/timelines/home?limit=40"
        mastodon = run_load(url, args.connections, args.duration, args.threads, headers=headers)
        json_page = run_load(
            native_url, args.connections, args.duration, args.threads, headers=native
        )
    bind = f"127.0.0.1:{free_port()}"
    with start_server(hello_argv(bind), bench.env, f"http://{bind}/", log=VAR_DIR / "hello.log"):
        hello = run_load(f"http://{bind}/", args.connections, args.duration, args.threads)
    report("mastodon_home_rps", mastodon.rps, "req/s", hello.rps)
    report("mastodon_home_p99", mastodon.p99_ms, "ms", hello.p99_ms)
    report("mastodon_home_vs_native_rps", mastodon.rps, "req/s", json_page.rps)
    report("mastodon_home_bytes", len(page.content), "bytes")
    errors = mastodon.errors + hello.errors + json_page.errors
    report("mastodon_home_errors", errors, "responses")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
