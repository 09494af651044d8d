"""Mail: how fast the send_mail job goes, and that asking for a reset never waits on SMTP.

* mails/s through the `send_mail` job (enqueue N sealed mails, one in-process
  worker drains them) with the spool backend, beside bare spool writes of the
  same messages; and with the SMTP backend to a loopback aiosmtpd server, beside
  bare aiosmtplib sends (one connection per mail in both).
* `POST /api/auth/password-reset` p50/p99 for an existing account (a token is
  stored and a mail queued) beside an unknown one (nothing happens), with the
  instance's SMTP server answering each mail only after 200 ms: the request must
  not wait on it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    prepare_database,
    report,
    say,
    start_server,
)
from stgy.config import Config  # noqa: E402
from stgy.domain.mail import messages  # noqa: E402
from stgy.mailer import make_backend  # noqa: E402
from stgy.services import Services  # noqa: E402
from tasks.worker import make_worker  # noqa: E402
from tests.integration.mail_support import smtp_server  # noqa: E402

PASSWORD = "bench password 1"  # noqa: S105 - a throw-away bench account


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def reset_mails(config: Config, count: int) -> list[EmailMessage]:
    return [
        messages.compose(
            config,
            to=f"reader{i}@bench.test",
            template="reset_password",
            context={
                "handle": f"reader{i}",
                "display_name": f"Reader {i}",
                "link": f"{config.instance.base_url}/auth/reset-password?token=bench{i}",
                "minutes": 60,
            },
        )
        for i in range(count)
    ]


async def job_throughput(config: Config, count: int, sent: Callable[[], int]) -> float:
    """Mails per second through one worker: from its start until `sent()` reaches `count`
    (the worker's start-up and shutdown are not counted)."""
    services = await Services.start(config)
    try:
        for message in reset_mails(config, count):
            await messages.enqueue(services, message)
        before = sent()
        worker = make_worker(services)
        started = time.perf_counter()
        running = asyncio.create_task(worker.start())
        while sent() - before < count:
            if running.done():
                raise RuntimeError(f"the worker stopped after {sent() - before} mails")
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        await worker.stop()
        await asyncio.gather(running, return_exceptions=True)
        return count / elapsed
    finally:
        await services.close()


async def bare_throughput(config: Config, count: int) -> float:
    backend = make_backend(config)
    batch = reset_mails(config, count)
    started = time.perf_counter()
    for message in batch:
        await backend.send(message)
    return count / (time.perf_counter() - started)


async def reset_times(base_url: str, login: str, count: int) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = await client.post("/api/auth/password-reset", json={"handle": login})
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 202:
                raise RuntimeError(f"password reset answered {response.status_code}")
    return times


async def run(args: argparse.Namespace) -> None:
    limits = {
        "limits_rate_limit_requests_per_minute": 10**9,
        "mail_rate_limit_per_hour": 10**9,
        "redis_queue_prefix": "stgy-bench-mail",
    }
    spool_path = VAR_DIR / "mail" / f"run-{int(time.time())}"
    spool = bench_config(database="stgy_bench_mail", **limits, mail_spool_path=str(spool_path))
    prepare_database(spool.env)

    def spooled() -> int:
        return len(list(spool_path.glob("*.eml"))) if spool_path.exists() else 0

    spool_jobs = await job_throughput(spool.config, args.mails, spooled)
    spool_bare = await bare_throughput(spool.config, args.mails)
    say(f"spool: {spooled()} files in {spool_path}")
    shutil.rmtree(spool_path, ignore_errors=True)

    with smtp_server("none") as server:
        smtp = bench_config(
            database="stgy_bench_mail",
            **limits,
            mail_backend="smtp",
            mail_smtp_host=server.host,
            mail_smtp_port=server.port,
            mail_smtp_security="none",
        )
        smtp_jobs = await job_throughput(smtp.config, args.mails, server.inbox.count)
        smtp_bare = await bare_throughput(smtp.config, args.mails)
        say(f"smtp: the server took {server.inbox.count()} mails")

    with smtp_server("none", delay=0.2) as slow:
        served = bench_config(
            database="stgy_bench_mail",
            **limits,
            mail_backend="smtp",
            mail_smtp_host=slow.host,
            mail_smtp_port=slow.port,
            mail_smtp_security="none",
        )
        with start_server(
            STGY_SERVE, served.env, f"{served.base_url}/healthz", log=VAR_DIR / "mail-serve.log"
        ):
            async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
                handle = f"reader_{int(time.time())}"
                await client.post(
                    "/api/accounts",
                    json={"handle": handle, "password": PASSWORD, "email": f"{handle}@bench.test"},
                )
            await reset_times(served.base_url, handle, 20)  # warm-up
            known = await reset_times(served.base_url, handle, args.requests)
            unknown = await reset_times(served.base_url, "nobody_at_all", args.requests)
        # The mails asked for wait in the queue: drop them with the bench queue.
        services = await Services.start(served.config)
        try:
            keys = [k async for k in services.redis.scan_iter(match="saq:*stgy-bench-mail*")]
            if keys:
                await services.redis.delete(*keys)
        finally:
            await services.close()

    report("mail_spool_job", spool_jobs, "mails/s", spool_bare)
    report("mail_smtp_job", smtp_jobs, "mails/s", smtp_bare)
    report(
        "password_reset_p50_slow_smtp", statistics.median(known), "ms", statistics.median(unknown)
    )
    report("password_reset_p99_slow_smtp", percentile(known, 99), "ms", percentile(unknown, 99))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=500, help="mails sent per backend")
    parser.add_argument("--requests", type=int, default=200, help="reset requests timed")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
