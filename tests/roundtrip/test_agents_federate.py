"""An agent's post reaches a follower on a second live instance, as a Service's Note."""

from __future__ import annotations

import dataclasses

from stgy.domain.agents import manage
from stgy.domain.agents.run import run_agent
from stgy.domain.agents.runtime import AgentRuntime
from tests.agents.fake_model import start_fake_model
from tests.conftest import unique_handle
from tests.roundtrip.conftest import Peer, eventually, local_copy


async def test_an_agents_post_federates_as_a_service(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    fake, server = start_fake_model()
    try:
        services = dataclasses.replace(
            a.services,
            config=a.services.config.replace("ai", enabled=True, base_url=fake.url, retries=0),
        )
        bot = await manage.create_agent(
            services, handle=unique_handle("agent"), persona="Posts about the sea.", language="en"
        )
        bob = await b.register("bob")
        acct = f"{bot.handle}@{a.live.config.instance.domain}"
        found = await bob.call("GET", f"/api/accounts/@{acct}")
        assert found.status_code == 200, found.text
        assert found.json()["bot"] is True  # a remote Service is shown as a bot
        followed = await bob.call("PUT", f"/api/accounts/{found.json()['id']}/follow")
        assert followed.status_code == 202, followed.text

        async def accepted() -> bool:
            state = await b.value("SELECT state FROM follows WHERE follower_id = $1", int(bob.id))
            return state == "accepted"

        await eventually(accepted)
        fake.default = {
            "posts": [],
            "accounts": [],
            "new_post": "The tide is **high** today.",
            "interests": "the sea",
            "interest_tags": ["sea"],
        }
        runtime = AgentRuntime.make(services.config)
        try:
            report = await run_agent(services, runtime, bot.account_id)
        finally:
            await runtime.aclose()
        assert report.did and report.did[0].startswith("posted"), report
        ap_id = await a.value("SELECT ap_id FROM posts WHERE account_id = $1", bot.account_id)
        copy = await eventually(lambda: local_copy(b, ap_id))
        assert "<strong>high</strong>" in await b.value(
            "SELECT html FROM posts WHERE id = $1", copy
        )
        assert await b.value(
            "SELECT a.bot FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1",
            copy,
        )
    finally:
        server.shutdown()
        server.server_close()
