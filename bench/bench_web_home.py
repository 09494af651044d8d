"""The web home page against the JSON home timeline: requests/s, same server, same data.

`GET /` (the logged-in home: composer and 20 posts as HTML) and
`GET /api/timelines/home?limit=20` (the same 20 posts as JSON), and the same pair with
100 posts (`/?limit=100`, `?limit=100`), for user42 of the
database seeded with 10,000 users and 100,000 posts (as bench_home_timeline.py's
"100k", kept between runs), at 32 connections, interleaved. Both pages come from
one domain call and the stored renderings; the HTML page parses the page's JSON
and renders templates. The aim is at least 0.5x the JSON's requests/s. Also
printed: the bytes of each page, and of an HTML post (the page weight of 100).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.bench_home_timeline import SIZES, ensure_seeded, token_for  # noqa: E402
from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    prepare_database,
    report,
    say,
    start_server,
)
from bench.load import interleaved, run_load  # noqa: E402

_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def web_cookies(base_url: str, handle: str) -> str:
    """Log in through the web form as a browser would; the Cookie header it ends with."""
    with httpx.Client(base_url=base_url) as browser:
        page = browser.get("/auth/login")
        found = _TOKEN.search(page.text)
        assert found is not None, "no CSRF token on /auth/login"  # noqa: S101
        answer = browser.post(
            "/auth/login",
            data={"csrf_token": found.group(1), "login": handle, "password": "test-password"},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        if answer.status_code != 303:
            raise RuntimeError(f"web log-in failed: {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    database, per_user = SIZES["100k"]
    bench = bench_config(database=database)
    prepare_database(bench.env)
    ensure_seeded(bench.env, bench.config.database.url, per_user)
    with start_server(
        STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=VAR_DIR / "web-home.log"
    ):
        api = {"Authorization": f"Bearer {token_for(bench.base_url, 'user42')}"}
        web = {"Cookie": web_cookies(bench.base_url, "user42")}
        json_url = f"{bench.base_url}/api/timelines/home?limit=20"
        html_url = f"{bench.base_url}/"
        json_page = httpx.get(json_url, headers=api)
        html_page = httpx.get(html_url, headers=web)
        json_page.raise_for_status()
        html_page.raise_for_status()
        posts = html_page.text.count('<article class="post"')
        say(f"JSON: {len(json_page.json()['posts'])} posts; HTML: {posts} posts")
        more = httpx.get(
            f"{html_url}?max_id={json_page.json()['oldest']}",
            headers={**web, "HX-Request": "true"},
        )
        json_100 = f"{bench.base_url}/api/timelines/home?limit=100"
        html_100 = f"{bench.base_url}/?limit=100"
        page_100 = httpx.get(html_100, headers=web)
        page_100.raise_for_status()
        shown_100 = page_100.text.count('<article class="post"')
        say(f"HTML ?limit=100: {shown_100} posts")
        got = interleaved(
            {
                "json": lambda: run_load(json_url, args.connections, args.duration, headers=api),
                "html": lambda: run_load(html_url, args.connections, args.duration, headers=web),
                "json100": lambda: run_load(json_100, args.connections, args.duration, headers=api),
                "html100": lambda: run_load(html_100, args.connections, args.duration, headers=web),
            },
            args.rounds,
        )
    report("web_home_rps", got["html"].rps, "req/s", got["json"].rps)
    report("web_home_p99", got["html"].p99_ms, "ms", got["json"].p99_ms)
    report("web_home_100_rps", got["html100"].rps, "req/s", got["json100"].rps)
    report("web_home_100_p99", got["html100"].p99_ms, "ms", got["json100"].p99_ms)
    report("web_home_100_html_bytes", len(page_100.content), "bytes")
    report("web_home_html_bytes", len(html_page.content), "bytes", len(json_page.content))
    per_post = len(more.content) / max(1, more.text.count('<article class="post"'))
    report("web_home_html_bytes_per_post", per_post, "bytes")
    report("web_home_html_bytes_100_posts_estimate", 100 * per_post, "bytes")
    errors = sum(load.errors for load in got.values())
    report("web_home_errors", errors, "responses")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
