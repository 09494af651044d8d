"""Serving an ASGI app with Hypercorn under the instance's server settings."""

from __future__ import annotations

import logging

from hypercorn.config import Config as HypercornConfig

from stgy.config import Config


def hypercorn_config(
    config: Config, application_path: str, bind: str | None = None
) -> HypercornConfig:
    """The Hypercorn settings of `stgy serve`; benchmarks serve their baselines with them too."""
    hc = HypercornConfig()
    hc.bind = [bind or config.server.bind]
    # One worker runs in this process; more are spawned child processes.
    hc.workers = config.server.workers if config.server.workers > 1 else 0
    hc.worker_class = config.server.worker_class
    hc.application_path = application_path
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")
    # Open event streams never finish on their own: after this long they are cut
    # (EventSource clients reconnect), so a restart takes seconds, not minutes.
    hc.graceful_timeout = 3.0
    hc.keep_alive_timeout = 75.0
    return hc
