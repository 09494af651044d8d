"""Idle memory: stgy's server and one worker against a bare Quart app and a bare SAQ worker.

RSS (resident set size, from /proc) of every process of each side, summed, after
the servers have answered a few requests and sat idle for a moment.
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from bench.load import run_load  # noqa: E402

IDLE_SECONDS = 3.0
# Pages served (English and Japanese) before the second figure.
PAGES = ("/", "/about", "/auth/login", "/auth/signup", "/timelines/local", "/no-such-page")


def rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, in MB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pids.extend(int(c) for c in children)
    return total / 1024


def start_worker(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=out, stderr=out)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    bench = bench_config()
    prepare_database(bench.env)
    figures = {}
    for side in ("stgy", "baseline"):
        with ExitStack() as stack:
            if side == "stgy":
                url = f"{bench.base_url}/healthz"
                server = stack.enter_context(
                    start_server(STGY_SERVE, bench.env, url, log=VAR_DIR / "mem-serve.log")
                )
                worker = start_worker(
                    [sys.executable, "-m", "stgy", "worker"], bench.env, VAR_DIR / "mem-work.log"
                )
            else:
                bind = f"127.0.0.1:{free_port()}"
                url = f"http://{bind}/"
                server = stack.enter_context(
                    start_server(hello_argv(bind), bench.env, url, log=VAR_DIR / "mem-hello.log")
                )
                worker = start_worker(
                    [sys.executable, str(REPO_ROOT / "bench" / "idle_saq_worker.py")],
                    bench.env,
                    VAR_DIR / "mem-saq.log",
                )
            stack.callback(stop, worker)
            run_load(url, connections=4, duration=1, warmup=0)
            time.sleep(IDLE_SECONDS)
            figures[side] = (rss_mb(server.pid), rss_mb(worker.pid))
            say(f"{side}: server {figures[side][0]:.1f} MB, worker {figures[side][1]:.1f} MB")
            if side == "stgy":
                # The web face's pages compile their templates and catalogs when first
                # asked for: the same, once the pages a visitor sees have been served.
                for path in PAGES:
                    for language in ("en", "ja"):
                        httpx.get(
                            bench.base_url + path,
                            headers={"Accept": "text/html", "Accept-Language": language},
                        )
                time.sleep(IDLE_SECONDS)
                figures["pages"] = (rss_mb(server.pid), rss_mb(worker.pid))
                say(f"after pages: server {figures['pages'][0]:.1f} MB")
    (stgy_server, stgy_worker), (bare_server, bare_worker) = figures["stgy"], figures["baseline"]
    report("idle_rss_server", stgy_server, "MB", bare_server)
    report("idle_rss_worker", stgy_worker, "MB", bare_worker)
    report("idle_rss_total", stgy_server + stgy_worker, "MB", bare_server + bare_worker)
    paged_server, paged_worker = figures["pages"]
    report(
        "idle_rss_total_after_pages", paged_server + paged_worker, "MB", bare_server + bare_worker
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
