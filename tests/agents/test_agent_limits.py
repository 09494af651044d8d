"""What an agent must not do: act on a bad model answer, loop with another bot, see
what is not addressed to it, or pass actions_per_run."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from stgy.domain import follows
from stgy.domain.agents.run import run_agent
from stgy.domain.agents.runtime import AgentRuntime, StepFailed, yield_to_urgent
from stgy.services import Services
from tests.agents.conftest import agent, person
from tests.agents.fake_model import FakeModel, Reply
from tests.agents.test_agent_runs import decision, write
from tests.integration.test_outbox import drain

REPLY_ALL = {"impression": "hm", "action": "reply", "reply": "I have thoughts."}


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply("this is not json"), "invalid"),
        (Reply(""), "empty"),
        (Reply(None), "empty"),
        (Reply('{"posts": []}'), "invalid"),  # a required property missing
        (
            Reply(
                '{"posts": [], "accounts": [], "new_post": "x", "interests": "",'
                ' "interest_tags": [], "extra": 1}'
            ),
            "invalid",
        ),
        (Reply('{"posts": [', finish_reason="length"), "too_long"),
        (Reply("{}", delay=3.0), "timeout"),
        (Reply(status=500), "http"),
        (Reply(status=400), "http"),
    ],
)
async def test_a_bad_answer_does_nothing_and_is_counted(
    ai: Services, runtime: AgentRuntime, fake: FakeModel, reply: Reply, kind: str
) -> None:
    bot = await agent(ai)
    alice = await person(ai)
    mention = await write(ai, alice.id, f"@{bot.handle} hello there")
    await drain(ai)
    # Two answers for the 5xx case: the first try and its one retry (ai.retries = 1).
    fake.answer("decision", *([reply, reply] if reply.status >= 500 else [reply]))
    with pytest.raises(StepFailed) as failed:
        await run_agent(ai, runtime, bot.account_id)
    assert failed.value.step == "decide" and failed.value.error.kind == kind
    async with ai.pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM posts WHERE account_id = $1", bot.account_id
        )
        row = await conn.fetchrow(
            "SELECT failures, last_error, seen_notification_id, interests FROM agents"
            " WHERE account_id = $1",
            bot.account_id,
        )
    assert row["failures"] == 1 and row["last_error"].startswith("decide: ")
    assert row["seen_notification_id"] == 0  # read again at the retry
    assert row["interests"] == ""
    # The retry, with a good answer, does it.
    fake.answer("decision", decision(posts=[{"post": "p1", **REPLY_ALL}], interests="greetings"))
    done = await run_agent(ai, runtime, bot.account_id)
    assert done.did == [d for d in done.did if d.startswith(f"replied to {mention}")] != []


async def test_429_is_retried_after_its_retry_after(
    ai: Services, runtime: AgentRuntime, fake: FakeModel
) -> None:
    bot = await agent(ai)
    fake.answer("decision", Reply(status=429, headers={"Retry-After": "0"}), decision())
    report = await run_agent(ai, runtime, bot.account_id)
    assert "nothing new" not in report.skipped
    assert len(fake.chats("decision")) == 2


async def test_two_agents_mentioned_together_stop_within_the_limits(
    ai: Services, runtime: AgentRuntime, fake: FakeModel
) -> None:
    one, two = await agent(ai, "Talks a lot."), await agent(ai, "Also talks a lot.")
    alice = await person(ai)
    root = await write(ai, alice.id, f"@{one.handle} @{two.handle} discuss tomatoes")
    await drain(ai)
    # Both always want to reply to everything they are shown.
    fake.default = decision(posts=[{"post": f"p{n}", **REPLY_ALL} for n in range(1, 11)])
    for _ in range(4):
        for bot in (one, two):
            await run_agent(ai, runtime, bot.account_id)
            await drain(ai)
    async with ai.pool.acquire() as conn:
        replies = await conn.fetch("SELECT account_id FROM posts WHERE conversation_id = $1", root)
    # One reply each in the thread within reply_cooldown, however often they run.
    assert sorted(r["account_id"] for r in replies) == sorted([one.account_id, two.account_id])

    # A bot that mentions an agent, with no person in the thread, gets no reply.
    alone = await write(ai, one.account_id, f"@{two.handle} just us bots")
    await drain(ai)
    report = await run_agent(ai, runtime, two.account_id)
    assert any("a bot, and no person mentioned" in s for s in report.skipped), report
    async with ai.pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM posts WHERE in_reply_to_id = $1", alone
        )


async def test_actions_per_run_and_what_an_agent_may_not_see(
    ai: Services, runtime: AgentRuntime, fake: FakeModel
) -> None:
    limited = dataclasses.replace(ai, config=ai.config.replace("ai", actions_per_run=1))
    bot = await agent(ai)
    alice, bob = await person(ai), await person(ai)
    await follows.follow(ai, bot.account_id, alice.id)
    await write(ai, alice.id, "first public words")
    await write(ai, alice.id, "second public words")
    await write(ai, bob.id, "followers only secret", visibility="followers")
    await write(ai, bob.id, f"@{alice.handle} a direct secret", visibility="direct")
    await drain(ai)
    fake.default = decision(
        posts=[
            {"post": f"p{n}", "impression": "", "action": "like", "reply": ""} for n in range(1, 5)
        ]
    )
    report = await run_agent(limited, runtime, bot.account_id)
    assert len(report.did) == 1
    assert any("actions_per_run reached" in s for s in report.skipped)
    prompt = fake.prompt()
    assert "first public words" in prompt and "second public words" in prompt
    assert "secret" not in prompt
    async with ai.pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM likes WHERE account_id = $1", bot.account_id)
            == 1
        )


async def test_a_japanese_agent_is_prompted_in_japanese(
    ai: Services, runtime: AgentRuntime, fake: FakeModel
) -> None:
    bot = await agent(ai, persona="トマトが好きな庭師。", language="ja")
    fake.answer("decision", decision(new_post="こんにちは、トマトの季節です。"))
    report = await run_agent(ai, runtime, bot.account_id)
    assert "日本語で書き" in fake.prompt() and "トマトが好きな庭師。" in fake.prompt()
    assert report.did and report.did[0].startswith("posted")
    async with ai.pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT language FROM posts WHERE account_id = $1", bot.account_id)
            == "ja"
        )


async def test_agents_let_fan_out_and_delivery_go_first(services: Services) -> None:
    """Before each job and each model call, agents wait while the default queue has jobs
    waiting (or running), at most a bound, so their work never delays fan-out."""
    await drain(services)  # what earlier tests left on this run's queue
    assert not await services.jobs.busy()
    await asyncio.wait_for(yield_to_urgent(services, max_wait=60), timeout=10)

    queue = services.jobs.saq
    job = await queue.enqueue("deliver_activity", key="urgent-test", timeout=5)
    assert job is not None and await services.jobs.busy()
    waiting = asyncio.create_task(yield_to_urgent(services, max_wait=60))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the queued job goes first
    await queue.abort(job, "test over")
    await asyncio.wait_for(waiting, timeout=10)  # and once it is gone, agents go on
    assert not await services.jobs.busy()

    # Never starved: past its bound it goes on even while the queue is busy.
    again = await queue.enqueue("deliver_activity", key="urgent-test-2", timeout=5)
    assert again is not None
    waited = await asyncio.wait_for(yield_to_urgent(services, max_wait=0.05), timeout=10)
    assert waited >= 0.05 and await services.jobs.busy()
    await queue.abort(again, "test over")
