"""Metrics shared across processes know which process writes them, also after a fork,
without asking the kernel each time."""

from __future__ import annotations

import multiprocessing
import os

from stgy import metrics


def _ids() -> tuple[int, int]:
    return os.getpid(), metrics.process_id()


def test_the_process_id_is_renewed_in_a_forked_child() -> None:
    assert metrics.process_id() == os.getpid()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child, seen = pool.apply(_ids)
    assert seen == child != os.getpid()
    assert metrics.process_id() == os.getpid()
