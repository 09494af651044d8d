"""Process settings of server and worker processes (kept apart from the Hypercorn
settings in stgy/serving.py, whose import the worker need not pay)."""

from __future__ import annotations

import gc

# Collections of the youngest generation every 5,000 new objects rather than 700 (the
# older generations keep their default ratios, 10 and 10, so cycles that outlive the
# young ones are still collected as often relative to it). A page of 100 posts makes a
# few thousand short-lived objects (rows, tuples), nearly all freed by their reference
# counts before any collection would find them; measured on the home timeline, the
# default thresholds cost about 5% of requests/s and doubled the p99 (collections of
# the whole heap). 20,000 measured the same, with about 0.6 MB more garbage waiting
# in an idle server.
GC_THRESHOLDS = (5_000, 10, 10)


def tune_gc() -> None:
    """The garbage collector's thresholds for a server or worker process, once it has
    started: what start-up left for the collector is collected first (else the rarer
    collections would leave it, and the memory it holds, for longer)."""
    gc.collect()
    gc.set_threshold(*GC_THRESHOLDS)
