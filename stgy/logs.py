"""Structured logging: one key=value line per event, to stderr."""

from __future__ import annotations

import logging
import re
import sys
import time

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


def configure_logging(level: str = "info") -> None:
    # Our lines name no process or thread: a record need not ask for them (the process
    # id is a getpid() system call per record).
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
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
