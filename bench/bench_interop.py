"""Interop with a Mastodon-shaped peer: first contacts (Follow -> Accept) against a live stgy.

Each of N peer accounts, new to stgy, POSTs a Mastodon-signed Follow to a
local account's inbox, CONCURRENCY at a time. stgy fetches each unknown actor
(its key), answers 202, applies the Follow in its worker and delivers a
signed Accept, which the peer verifies with its own checkers. Printed:

* inbox 202s per second for first contacts (a key fetch each) and for POSTs
  from accounts already known (cached key), same peer, same run;
* Follow -> verified Accept round trip, p50 and p95, and the rate at which
  Accepts arrive, with one `stgy worker`.

The peer runs in this process (one event loop for its server, its signing and
its checks), so these are interop figures, not the inbox's ceiling: see the
inbox benchmark for that.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report, say  # noqa: E402 - needs the repo root on sys.path
from storage import db  # noqa: E402
from tests.conftest import create_migrated_database, stop_processes  # noqa: E402
from tests.interop.conftest import register, start_interop_instance  # noqa: E402
from tests.interop.mastodon_peer import MastodonPeer, running_peer  # noqa: E402

ACCOUNTS = 200
CONCURRENCY = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def post_follows(peer: MastodonPeer, inbox: str, target: str, handles: list[str]) -> float:
    """POST a Follow from each handle, CONCURRENCY at a time; seconds taken for all 202s."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(handle: str) -> None:
        async with gate:
            answer = await peer.post(inbox, peer.follow(handle, target), handle)
            assert answer.status_code == 202, answer.text

    started = time.perf_counter()
    await asyncio.gather(*(one(handle) for handle in handles))
    return time.perf_counter() - started


async def run(tmp: Path) -> None:
    database_url = await create_migrated_database(f"stgy_bench_interop_{os.getpid()}")
    instance = start_interop_instance(database_url, tmp)
    try:
        user = await register(instance)
        async with running_peer() as peer:
            handles = [f"m{n}" for n in range(ACCOUNTS)]
            for handle in handles:
                peer.add_account(handle)
            say(f"{ACCOUNTS} first contacts, {CONCURRENCY} at a time")
            sent_at = time.perf_counter()
            first = await post_follows(peer, f"{user.actor_id}/inbox", user.actor_id, handles)
            await peer.wait_for(
                lambda r: (
                    sum(x.activity.get("type") == "Accept" for x in peer.received) >= ACCOUNTS
                ),
                timeout=300,
            )
            drained = time.perf_counter() - sent_at
            accepts = [r for r in peer.received if r.activity.get("type") == "Accept"]
            assert all(r.error is None for r in accepts)
            say("the same accounts again (keys cached)")
            known = await post_follows(peer, f"{user.actor_id}/inbox", user.actor_id, handles)
        # Round trips: each POST's own latency is not kept; time to the last Accept over
        # the Follows gives the mean, so measure single round trips apart.
        async with running_peer() as peer:
            trips = []
            for n in range(20):
                handle = f"s{n}"
                peer.add_account(handle)
                follow = peer.follow(handle, user.actor_id)
                started = time.perf_counter()
                await peer.post(f"{user.actor_id}/inbox", follow, handle)
                await peer.wait_for(lambda r, f=follow: r.activity.get("object") == f["id"])
                trips.append((time.perf_counter() - started) * 1000)
    finally:
        stop_processes(instance.server, instance.worker)
        await db.drop_database(database_url)
    report("inbox first-contact Follows accepted", ACCOUNTS / first, "req/s", ACCOUNTS / known)
    report("inbox Follows from known accounts", ACCOUNTS / known, "req/s")
    report("Accepts delivered and verified by the peer", ACCOUNTS / drained, "/s")
    report("Follow -> verified Accept p50", statistics.median(trips), "ms")
    report("Follow -> verified Accept p95", percentile(trips, 95), "ms")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="stgy-bench-interop-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
