"""Checks of single config values (each gives the problem or None) and `_key`, which ties
a default and a check to a section field."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(choices)} (got {value!r})"
        return None

    return check


def _at_least(low: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be at least {low} (got {value!r})"

    return check


_DOMAIN_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")


def _domain(value: Any) -> str | None:
    if not _DOMAIN_RE.match(value):
        return f"must be a host name with an optional port, like example.com (got {value!r})"
    return None


def _bind(value: Any) -> str | None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        return f"must be host:port, like 127.0.0.1:8000 (got {value!r})"
    return None


def _url(*schemes: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            return f"must be a {'/'.join(schemes)} URL with a host (got {value!r})"
        return None

    return check


def _email(value: Any) -> str | None:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        return f"must be an email address (got {value!r})"
    return None


_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def _namespace(value: Any) -> str | None:
    if not _NAMESPACE_RE.match(value):
        return f"must be at most 100 letters, digits, '.', '_', ':' or '-' (got {value!r})"
    return None


def _opt(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """Allow the empty string (unset) or a value passing `check`."""
    return lambda value: None if value == "" else check(value)


def _key(default: Any, check: Callable[[Any], str | None] | None = None) -> Any:
    return field(default=default, metadata={"check": check})
