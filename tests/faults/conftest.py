"""Fixtures for fault tests: servers a test may stop and start (tests/faults/servers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.servers import PrivatePostgres, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with PrivateRedis() as server:
        yield server


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as server:
        yield server
