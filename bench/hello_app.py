"""The baseline: a bare Quart hello-world app, served with stgy's own Hypercorn settings.

`python bench/hello_app.py --bind 127.0.0.1:PORT` serves it the way `stgy serve` serves
stgy (same `hypercorn_config`, same config file and environment overrides).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from quart import Quart, Response, request

app = Quart("hello")


@app.get("/")
async def hello() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/inbox")
async def inbox() -> Response:
    """The inbox baseline: read the body, answer 202 with nothing (as stgy's inbox does)."""
    await request.get_data()
    return Response("", status=202)


def main() -> int:
    # Run as a file, the repo root is not on sys.path; Hypercorn imports `bench.hello_app`.
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from hypercorn.run import run

    from stgy.config import load_config
    from stgy.logs import configure_logging
    from stgy.runtime import tune_gc
    from stgy.serving import hypercorn_config

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", help="host:port (default: server.bind)")
    parser.add_argument(
        "--tuned-gc", action="store_true", help="stgy's garbage-collector thresholds too"
    )
    args = parser.parse_args()
    configure_logging()  # as `stgy serve` does
    if args.tuned_gc:
        tune_gc()
    return int(run(hypercorn_config(load_config(), "bench.hello_app:app", args.bind)))


if __name__ == "__main__":
    sys.exit(main())
