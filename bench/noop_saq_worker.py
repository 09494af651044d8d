"""A ceiling for delivery benchmarks: a bare SAQ worker running no-op jobs.

`python bench/noop_saq_worker.py QUEUE CONCURRENCY` works the queue until stopped.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from saq import Queue, Worker


async def noop(ctx: Any) -> None:
    return None


async def main(name: str, concurrency: int) -> None:
    queue = Queue.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), name=name)
    worker = Worker(queue, functions=[noop], concurrency=concurrency)
    await worker.start()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
