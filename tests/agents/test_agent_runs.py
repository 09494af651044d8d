"""Agent runs against the fake model server: what reaches the prompt, what the agent
does (through the same domain calls as a person), its memory and counters."""

from __future__ import annotations

from typing import Any

from stgy.domain import follows, posts
from stgy.domain.agents import summaries
from stgy.domain.agents.run import run_agent
from stgy.domain.agents.runtime import AgentRuntime
from stgy.services import Services
from tests.agents.conftest import agent, person
from tests.agents.fake_model import FakeModel
from tests.integration.test_outbox import drain


async def write(services: Services, author: int, text: str, **fields: Any) -> int:
    created = await posts.create_post(services, author, posts.PostDraft(text=text, **fields))
    return created.view.id


def decision(**fields: Any) -> dict[str, Any]:
    return {
        "posts": [],
        "accounts": [],
        "new_post": "",
        "interests": "",
        "interest_tags": [],
        **fields,
    }


async def test_agent_replies_likes_follows_and_posts(
    ai: Services, runtime: AgentRuntime, fake: FakeModel
) -> None:
    bot = await agent(ai, persona="A gardener who loves tomatoes and compost.")
    alice_person = await person(ai, "alice")
    alice = alice_person.id
    await follows.follow(ai, alice, bot.account_id)
    mention = await write(ai, alice, f"@{bot.handle} what should I plant in spring?")
    first = await write(ai, alice, "My tomatoes are ripening, compost works wonders")
    second = await write(ai, alice, "Tomatoes again: the compost heap is warm")
    await drain(ai)
    for post_id in (first, second):
        assert await summaries.summarise_post(ai, runtime, post_id) == "summarised"

    # Labels follow the order shown: the mention first, then the best matches.
    fake.answer(
        "decision",
        decision(
            posts=[
                {"post": "p1", "impression": "asks me", "action": "reply", "reply": "Peas!"},
                {"post": "p2", "impression": "ripe", "action": "like", "reply": ""},
                {"post": "p3", "impression": "warm", "action": "like", "reply": ""},
            ],
            accounts=[{"account": "@" + alice_person.handle, "impression": "kind", "follow": True}],
            new_post="Compost is **alive**.",
            interests="tomatoes, compost and spring planting",
            interest_tags=["tomatoes", "compost"],
        ),
    )
    report = await run_agent(ai, runtime, bot.account_id)
    prompt = fake.prompt()
    assert "A gardener who loves tomatoes and compost." in prompt  # the persona
    assert "what should I plant in spring?" in prompt  # the post's text
    assert "write in\nEnglish" in prompt  # the language
    assert "addressed to you" in prompt
    assert len(report.did) == 5, report

    async with ai.pool.acquire() as conn:
        reply = await conn.fetchrow(
            "SELECT id, source, visibility FROM posts"
            " WHERE account_id = $1 AND in_reply_to_id = $2",
            bot.account_id,
            mention,
        )
        assert reply is not None and "Peas!" in reply["source"]
        liked = await conn.fetch(
            "SELECT post_id FROM likes WHERE account_id = $1 ORDER BY post_id", bot.account_id
        )
        assert [r["post_id"] for r in liked] == sorted([first, second])
        assert (
            await conn.fetchval(
                "SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2",
                bot.account_id,
                alice,
            )
            == "accepted"
        )
        own = await conn.fetchval(
            "SELECT id FROM posts WHERE account_id = $1 AND in_reply_to_id IS NULL",
            bot.account_id,
        )
        assert own is not None
        row = await conn.fetchrow(
            "SELECT interests, interest_tags, calls, actions, prompt_tokens FROM agents"
            " WHERE account_id = $1",
            bot.account_id,
        )
        assert row["interests"] == "tomatoes, compost and spring planting"
        assert list(row["interest_tags"]) == ["tomatoes", "compost"]
        assert row["actions"] == 5
        # persona embedding, decision, interests embedding
        assert row["calls"] == 3 and row["prompt_tokens"] > 0
        remembered = await conn.fetchval(
            "SELECT impression FROM agent_impressions WHERE agent_id = $1"
            " AND subject_kind = 'post' AND subject_id = $2",
            bot.account_id,
            first,
        )
        assert remembered == "ripe"
    await drain(ai)
    async with ai.pool.acquire() as conn:
        # The new post reached its follower's home timeline; the reply notified alice.
        assert await conn.fetchval(
            "SELECT count(*) FROM timeline_entries WHERE owner_id = $1 AND post_id = $2",
            alice,
            own,
        )
        assert await conn.fetchval(
            "SELECT count(*) FROM notifications WHERE account_id = $1 AND post_id = $2",
            alice,
            reply["id"],
        )
    # The key went in the Authorization header.
    assert fake.authorizations[-1] == "Bearer test-key-not-logged"

    # A second run reads nothing new (the marks moved) and does nothing.
    fake.answer("decision", decision(new_post="again"))
    again = await run_agent(ai, runtime, bot.account_id)
    assert again.did == []
