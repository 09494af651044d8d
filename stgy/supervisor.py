"""`stgy run`: the server and one worker as child processes, started and stopped together."""

from __future__ import annotations

import http.client
import signal
import subprocess  # noqa: S404 - running our own two processes
import sys
import time
from types import FrameType

from stgy.config import Config

_GRACE_SECONDS = 15.0


def _say(message: str) -> None:
    print(f"stgy: {message}", file=sys.stderr, flush=True)


def _ready(config: Config) -> bool:
    host, _, port = config.server.bind.rpartition(":")
    host = "127.0.0.1" if host in ("0.0.0.0", "", "[::]", "::") else host.strip("[]")  # noqa: S104
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=1.0)
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
    except OSError:
        return False
    return status == 200


def supervise(config: Config, env: dict[str, str]) -> int:
    """Run server and worker until a signal (exit 0) or until one of them dies (exit 1)."""
    children = {
        "server": subprocess.Popen([sys.executable, "-m", "stgy", "serve"], env=env),  # noqa: S603
        "worker": subprocess.Popen([sys.executable, "-m", "stgy", "worker"], env=env),  # noqa: S603
    }
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    announced = False
    started = time.monotonic()
    failed: str | None = None
    while not stopping:
        for name, child in children.items():
            code = child.poll()
            if code is not None:
                failed = f"{name} exited with code {code}"
                break
        if failed:
            break
        if not announced and _ready(config):
            announced = True
            _say(f"ready: {config.instance.base_url} (listening on {config.server.bind})")
        elif not announced and time.monotonic() - started > 60:
            _say("the server has not answered /healthz for 60 s; still waiting")
            started = time.monotonic()
        time.sleep(0.2)

    if failed:
        _say(f"{failed}; stopping the rest")
    else:
        _say(f"received {signal.Signals(stopping[0]).name}; stopping server and worker")
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop within {_GRACE_SECONDS:.0f} s; killing it")
            child.kill()
            child.wait()
    _say("stopped")
    return 1 if failed else 0
