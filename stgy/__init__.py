"""stgy: a federated social network server."""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client when it is imported, and with it rich, pygments and
# click when they are installed (the dev set that `make run` uses has them): 4 MB in every
# server and worker process, which never run that client. An entry of None makes that one
# import fail, which httpx expects (its `httpx.main` then says what is missing).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
