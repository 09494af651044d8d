"""Log lines: key=value pairs whose values are bare only when nothing in them could be
read as another pair."""

from __future__ import annotations

import io
import logging
import threading

from stgy.logs import BatchingStreamHandler, KeyValueFormatter, quote


def test_safe_values_are_bare_and_the_rest_quoted() -> None:
    assert quote("/api/timelines/home") == "/api/timelines/home"
    assert quote("user@example.org:443") == "user@example.org:443"
    assert quote("a_b-c.d") == "a_b-c.d"
    assert quote(42) == "42"
    assert quote("") == "''"
    assert quote("a b") == "'a b'"
    assert quote("x=1") == "'x=1'"
    assert quote("line\nbreak") == "'line\\nbreak'"
    assert quote("caf\u00e9") == "'caf\u00e9'"


def test_a_record_is_one_line() -> None:
    record = logging.LogRecord("stgy.test", logging.INFO, __file__, 1, "a=%s b=%d", ("x", 2), None)
    line = KeyValueFormatter().format(record)
    assert line.endswith(" level=info logger=stgy.test a=x b=2")
    assert line.startswith("ts=") and "\n" not in line


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_lines_wait_for_a_batch_but_warnings_go_at_once_in_order() -> None:
    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, interval=3600)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = _logger(handler, "stgy.test.batch")
    log.info("one")
    log.info("two")
    assert stream.getvalue() == ""
    log.warning("three")
    assert stream.getvalue() == "INFO one\nINFO two\nWARNING three\n"
    log.info("four")
    handler.flush()  # what logging does at exit
    assert stream.getvalue().endswith("WARNING three\nINFO four\n")


def test_a_full_batch_is_written_and_a_waiting_one_within_the_interval() -> None:
    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, interval=3600, capacity=30)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = _logger(handler, "stgy.test.full")
    for n in range(3):
        log.info("line %d of ten chars", n)
    assert stream.getvalue().splitlines() == ["line 0 of ten chars", "line 1 of ten chars"]

    timed = _Signalling()
    soon = BatchingStreamHandler(timed, interval=0.01)
    soon.setFormatter(logging.Formatter("%(message)s"))
    _logger(soon, "stgy.test.timed").info("by the flusher")
    assert timed.written.wait(10), "the flusher thread never wrote"
    assert timed.getvalue() == "by the flusher\n"


class _Signalling(io.StringIO):
    """A stream that says when something was written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def write(self, text: str) -> int:
        n = super().write(text)
        self.written.set()
        return n
