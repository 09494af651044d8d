"""Start one of fediverse-pasture's servers on loopback; run by .venv-pasture's Python.

    python pasture_launch.py verify_actor PORT
    python pasture_launch.py http_signature PORT

The package's own commands bind 0.0.0.0 (and `verify_actor:get_app` passes one
argument too few to `build_app`), so this builds the same apps from the
package and serves them on 127.0.0.1. Run it in a scratch directory: the
verify_actor app keeps its generated actors in `data.toml` there, and bovine
its JSON-LD context cache in `bovine_jsonld_cache.sqlite`. It imports nothing
of stgy's.
"""

from __future__ import annotations

import sys


def main() -> None:
    tool, port = sys.argv[1], int(sys.argv[2])
    if tool == "verify_actor":
        from fediverse_pasture.verify_actor import build_app

        app = build_app(False, f"localhost:{port}", False, 10)
    elif tool == "http_signature":
        from fediverse_pasture.server.http_signature import http_signature_blueprint
        from quart import Quart

        app = Quart("http_signature")
        app.register_blueprint(http_signature_blueprint)
    else:
        raise SystemExit(f"unknown tool {tool}")
    app.run(host="127.0.0.1", port=port, use_reloader=False)


if __name__ == "__main__":
    main()
