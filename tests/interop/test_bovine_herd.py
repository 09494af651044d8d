"""bovine-herd (from PyPI, in .venv-pasture) as a peer of a live stgy: its account follows
ours, we accept, the herd records the follow as accepted, and our next post is delivered
to it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveInstance
from tests.interop.conftest import fetch_value, register
from tests.interop.pasture import PastureServer, herd_server


@pytest.fixture(scope="module")
def herd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PastureServer]:
    with herd_server("herdy", tmp_path_factory.mktemp("herd")) as server:
        yield server


async def test_a_herd_follow_is_accepted_and_the_herd_takes_our_accept(
    interop_instance: LiveInstance, herd: PastureServer
) -> None:
    user = await register(interop_instance)
    async with httpx.AsyncClient(base_url=herd.url, timeout=30) as client:
        sent = (await client.post("/_interop/follow", json={"target": user.actor_id})).json()
        follow_state = """SELECT f.state FROM follows f JOIN accounts a ON a.id = f.follower_id
            JOIN inbox_activities i ON i.actor_id = a.ap_id AND i.ap_id = $2
            WHERE a.ap_id = $1"""
        for _ in range(200):
            following = (await client.get("/_interop/following")).json()["following"]
            if user.actor_id in following:
                break
            await asyncio.sleep(0.05)
    assert following == [user.actor_id], herd.log_text()[-3000:]
    assert await fetch_value(interop_instance, follow_state, sent["actor"], sent["id"]) == (
        "accepted"
    )
    handle = await fetch_value(
        interop_instance, "SELECT handle FROM accounts WHERE ap_id = $1", sent["actor"]
    )
    assert handle == "herdy"

    # The follow stands: our next post goes to the herd's inbox, signed, and bovine
    # (which checks our signature against our actor) takes it in.
    async with httpx.AsyncClient(base_url=interop_instance.url, timeout=30) as ours:
        posted = await ours.post("/api/posts", json={"text": "hello, herd"}, headers=user.auth)
    assert posted.status_code == 201, posted.text
    create_id = posted.json()["ap_id"] + "/activity"
    async with httpx.AsyncClient(base_url=herd.url, timeout=30) as client:
        for _ in range(300):
            inbox = (await client.get("/_interop/inbox")).json()["inbox"]
            if create_id in inbox:
                break
            await asyncio.sleep(0.05)
    assert create_id in inbox, herd.log_text()[-3000:]
