"""The `stgy` command's entry (the console script and `python -m stgy`).

httpx imports its own command-line client (click, rich, pygments) whenever rich can be
imported. The development venv has rich (test tools bring it), the runtime set does not;
a server or worker never runs that client, and importing it costs each process about
3.5 MB of memory. So the command hides rich and pygments from httpx's import, before
anything imports httpx. Code that imports stgy as a library (the tests) is unaffected.
"""

from __future__ import annotations

import sys

_NOT_FOR_SERVERS = ("rich", "pygments")


def main() -> int:
    if "httpx" not in sys.modules:
        for name in _NOT_FOR_SERVERS:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    from stgy.cli import main as run_command

    return run_command()
