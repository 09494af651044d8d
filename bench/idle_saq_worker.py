"""The baseline for memory: a bare SAQ worker with one no-op job, idle on a Redis queue."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from saq import Queue, Worker


async def noop(ctx: Any) -> None:
    return None


async def main() -> None:
    queue = Queue.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), name="idle")
    worker = Worker(queue, functions=[noop])
    await worker.start()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
