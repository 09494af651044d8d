"""PostgreSQL and Redis servers of one test's own, on free loopback ports in a tmp dir,
that the test may stop, start again (same port, same data) and throw away.

For fault tests: break these, never the shared servers other runs use.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from stgy.devservices import (
    ServicesUnavailable,
    free_port,
    init_postgres_cluster,
    redis_command,
    start_postgres,
    stop_postgres,
    wait_for_redis,
)
from storage.db import with_database


class _PrivateServer:
    """A server of one test's own: used in a `with` block, it is closed at its end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class PrivateRedis(_PrivateServer):
    """A redis-server keeping nothing on disk: after `restart()` it comes back empty.

    Started by the constructor; `stop()` / `start()` take it away and bring it back on
    the same port; `close()` (or leaving a `with` block) ends it for good.
    """

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="stgy-redis-"))
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.close)
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start it (on the same port as before); returns once it answers PING."""
        if self.running:
            return
        self._process = subprocess.Popen(
            redis_command(self.home, self.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_redis(self.url)
        except ServicesUnavailable:
            self.stop(kill=True)
            raise

    def stop(self, *, kill: bool = False) -> None:
        """Shut it down (SIGTERM), or crash it (`kill`: SIGKILL); its data is gone."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop and start again: an empty Redis on the same port, as after a reboot."""
        self.stop()
        self.start()

    def flushall(self) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=5.0)
        try:
            client.flushall()
        finally:
            client.close()

    def close(self) -> None:
        self.stop(kill=True)
        shutil.rmtree(self.home, ignore_errors=True)
        atexit.unregister(self.close)


class PrivatePostgres(_PrivateServer):
    """A PostgreSQL cluster (initdb, trust auth) run with pg_ctl; data survives stop/start.

    `url` is the server's (its `postgres` database); make others with `database_url(name)`
    and `storage.db.create_database_if_missing`. As root, PostgreSQL runs as the
    `postgres` user (stgy.devservices does the same for `stgy services up`).
    """

    def __init__(self) -> None:
        # Not under pytest's tmp dir: that one is private to root (0700), and pytest
        # resets its mode when a session starts, so the service user could not reach it.
        self.home = Path(tempfile.mkdtemp(prefix="stgy-pg-"))
        self.port = free_port()
        atexit.register(self.close)
        try:
            init_postgres_cluster(self.home)
            self.start()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return with_database(self.url, name)

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    @property
    def running(self) -> bool:
        return (self.home / "data" / "postmaster.pid").exists()

    def start(self) -> None:
        """Start it (same port, same data); returns once it takes connections."""
        if not self.running:
            start_postgres(self.home, self.port)

    def stop(self, mode: str = "fast") -> None:
        """`fast`: end the sessions and shut down cleanly; `immediate`: as a crash would."""
        stop_postgres(self.home, mode)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        try:
            stop_postgres(self.home, "immediate")
        except ServicesUnavailable:
            pass  # already gone: nothing to stop
        shutil.rmtree(self.home, ignore_errors=True)
        atexit.unregister(self.close)
