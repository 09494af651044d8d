"""Running fediverse-pasture's servers and bovine-herd (from .venv-pasture) on loopback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stgy.devservices import free_port
from tests.conftest import ROOT, stop_processes

PASTURE_PYTHON = ROOT / ".venv-pasture" / "bin" / "python"
LAUNCHER = Path(__file__).resolve().parent / "pasture_launch.py"
HERD_LAUNCHER = Path(__file__).resolve().parent / "herd_launch.py"
SECURITY_V1 = "https://w3id.org/security/v1"


@dataclass
class PastureServer:
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def require_pasture_venv() -> Path:
    if not PASTURE_PYTHON.exists():
        pytest.fail(f"{PASTURE_PYTHON} is missing: `make pasture` (or `make test`) creates it")
    return PASTURE_PYTHON


def seed_context_cache(workdir: Path) -> None:
    """Give bovine the security context from our bundle, as it cannot fetch it here.

    bovine caches JSON-LD contexts in a SQLite file in the working directory
    and fetches missing ones from the network; with no network it would
    compact keys with an empty security context and fall back to the raw
    document. With the real context its JSON-LD reading of our actors is the
    one it does in the wild.
    """
    context = json.loads((ROOT / "federation" / "contexts" / "security-v1.json").read_text())
    with sqlite3.connect(workdir / "bovine_jsonld_cache.sqlite") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS jsonld (url TEXT PRIMARY KEY, context TEXT)")
        conn.execute(
            "INSERT OR REPLACE INTO jsonld VALUES (?, ?)",
            (SECURITY_V1, json.dumps(context["@context"])),
        )


@contextmanager
def pasture_server(tool: str, workdir: Path) -> Iterator[PastureServer]:
    """`verify_actor` or `http_signature` on a free loopback port, until the block ends."""
    with _served([str(LAUNCHER), tool], workdir, tool) as server:
        yield server


@contextmanager
def herd_server(handle: str, workdir: Path) -> Iterator[PastureServer]:
    """bovine-herd with one account, `handle`, on a free loopback port."""
    with _served([str(HERD_LAUNCHER)], workdir, "herd", handle) as server:
        yield server


@contextmanager
def _served(command: list[str], workdir: Path, name: str, *extra: str) -> Iterator[PastureServer]:
    python = require_pasture_venv()
    workdir.mkdir(parents=True, exist_ok=True)
    seed_context_cache(workdir)
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(python), *command, str(port), *extra],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = PastureServer(f"http://localhost:{port}", log)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(server.url + "/.well-known/nodeinfo", timeout=2)
            break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            stop_processes(process)  # type: ignore[arg-type]
            raise RuntimeError(f"{name} did not start; log:\n{server.log_text()}")
        time.sleep(0.1)
    try:
        yield server
    finally:
        stop_processes(process)  # type: ignore[arg-type]
