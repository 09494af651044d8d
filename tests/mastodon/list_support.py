"""Helpers for the list tests: the live instance's database from synchronous tests, ids
of statuses, a person's home timeline, a native API token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from mastodon import Mastodon

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person


def on_database(
    instance: LiveInstance, work: Callable[[asyncpg.Connection], Awaitable[Any]]
) -> Any:
    """Run `work` on a connection to the live instance's database (the tests here are
    synchronous, as Mastodon.py is)."""

    async def run() -> Any:
        conn = await asyncpg.connect(instance.database_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def ids_of(statuses: list[dict[str, Any]]) -> list[str]:
    return [str(s["id"]) for s in statuses]


def home_ids(api: Mastodon) -> list[str]:
    return ids_of(api.timeline_home(limit=40))


def login_token(http: httpx.Client, who: Person) -> str:
    answer = http.post("/api/auth/login", json={"handle": who.handle, "password": who.password})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token
