"""Structured logging: one key=value line per event, to stderr."""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
import weakref
from typing import TextIO

_BARE = re.compile(r"[A-Za-z0-9_./:@-]+")


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=... logger=... <message>`; messages are themselves key=value pairs."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = (
            f"ts={ts}.{int(record.msecs):03d}Z level={record.levelname.lower()} "
            f"logger={record.name} {record.getMessage()}"
        )
        if record.exc_info:
            # Keep one line per event: the traceback is folded onto it.
            trace = self.formatException(record.exc_info).replace("\n", " | ")
            line += f" exc={trace!r}"
        return line


_OURS = (
    "Error processing job",
    "Processing",
    "Finished",
    # Its grace period always runs out on its own poll loops; not a problem.
    "Some tasks did not finish within the shutdown grace period",
)


class _DropSaqJobErrors(logging.Filter):
    """SAQ logs a multi-line traceback per failed job; our own job line already says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_OURS)


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes its lines in batches: at most `interval` seconds after the first line of a
    batch, or when `capacity` characters wait, and a warning or worse at once (after
    the lines before it, in order). One write per request line was a system call per
    request: 4% of the home timeline's requests/s under load. `flush()` (logging calls
    it at exit) writes what waits."""

    def __init__(self, stream: TextIO, *, interval: float = 1.0, capacity: int = 65536) -> None:
        super().__init__(stream)
        self.interval, self.capacity = interval, capacity
        self._waiting: list[str] = []
        self._size = 0
        self._flusher: threading.Thread | None = None
        _BATCHING.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 - logging's own rule: report, never raise
            self.handleError(record)
            return
        self._waiting.append(line)  # logging holds this handler's lock here
        self._size += len(line)
        if record.levelno >= logging.WARNING or self._size >= self.capacity:
            self._write()
        elif self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_often, daemon=True)
            self._flusher.start()

    def _write(self) -> None:
        if self._waiting:
            text = "".join(self._waiting)
            self._waiting.clear()
            self._size = 0
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # noqa: BLE001 - as logging.StreamHandler: never raise
                self.handleError(logging.makeLogRecord({"msg": "lost log lines"}))

    def flush(self) -> None:
        lock = self.lock  # made by Handler.__init__
        assert lock is not None  # noqa: S101
        with lock:
            self._write()

    def _flush_often(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()

    def _forked(self) -> None:
        """In a forked child: the flusher thread did not come along."""
        self._flusher = None


_BATCHING: weakref.WeakSet[BatchingStreamHandler] = weakref.WeakSet()


def _forked() -> None:
    for handler in list(_BATCHING):
        handler._forked()  # noqa: SLF001


os.register_at_fork(after_in_child=_forked)


def configure_logging(level: str = "info") -> None:
    # Our lines name no process or thread: a record need not ask for them (the process
    # id is a getpid() system call per record).
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    saq = logging.getLogger("saq")
    saq.addFilter(_DropSaqJobErrors())
    saq.setLevel(logging.WARNING)
    # Hypercorn's access log is replaced by our own request line.
    logging.getLogger("hypercorn.access").disabled = True
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def quote(value: object) -> str:
    """A value for a key=value line: bare when safe, else repr-quoted."""
    text = str(value)
    return text if _BARE.fullmatch(text) else repr(text)
