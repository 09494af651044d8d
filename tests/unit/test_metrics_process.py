"""Metrics shared across processes know which process writes them, also after a fork,
without asking the kernel each time."""

from __future__ import annotations

import subprocess
import sys

# Forked from a fresh interpreter, not from the test process: that one has threads and may
# hold asyncio's SIGTERM handler (a no-op without its loop), so a child forked from it can
# hang on a lock another thread held, and the Pool's terminate() then waits for it
# forever; that is how a `-n 2` run hung here.
FORKING = """
import multiprocessing
import os

from stgy import metrics


def ids():
    return os.getpid(), metrics.process_id()


assert metrics.process_id() == os.getpid()
with multiprocessing.get_context("fork").Pool(1) as pool:
    child, seen = pool.apply(ids)
print(child, seen, os.getpid(), metrics.process_id())
"""


def test_the_process_id_is_renewed_in_a_forked_child() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FORKING], capture_output=True, text=True, timeout=60, check=True
    )
    child, seen, parent, parent_seen = map(int, result.stdout.split())
    assert seen == child != parent
    assert parent_seen == parent
