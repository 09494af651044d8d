"""Log lines: key=value pairs whose values are bare only when nothing in them could be
read as another pair."""

from __future__ import annotations

import logging

from stgy.logs import KeyValueFormatter, quote


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
