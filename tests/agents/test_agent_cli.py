"""`stgy agents` against a real database and the fake model server: create, list (with
the counters), pause, resume, run-once, convert and back, delete; and the per-agent
counters in /metrics."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from stgy import metrics
from stgy.domain.agents.run import run_agent
from stgy.domain.agents.runtime import AgentRuntime
from stgy.services import Services
from storage import db
from tests.agents.conftest import agent
from tests.agents.fake_model import FakeModel
from tests.conftest import config_env, create_migrated_database
from tests.integration.test_cli import stgy

KEY = "sk-test-" + secrets.token_hex(8)  # must never be printed


def _row(listing: str, handle: str) -> list[str]:
    (line,) = [row for row in listing.splitlines() if row.startswith(handle + " ")]
    return line.split()


def test_agents_from_the_command_line(tmp_path: Path, fake: FakeModel) -> None:
    name = f"stgy_test_cliagents_{secrets.token_hex(4)}"
    url = asyncio.run(create_migrated_database(name))
    env = config_env(
        url,
        tmp_path,
        queue="cliagents",
        STGY_AI_ENABLED="true",
        STGY_AI_BASE_URL=fake.url,
        STGY_AI_API_KEY_ENV="STGY_TEST_MODEL_KEY",
        STGY_TEST_MODEL_KEY=KEY,
    )
    fake.default = {
        "posts": [],
        "accounts": [],
        "new_post": "The first tomatoes are red today.",
        "interests": "tomatoes, soil",
        "interest_tags": ["tomatoes"],
    }
    try:
        made = stgy("agents", "create", "gardener", "--persona", "A gardener.", env=env)
        assert made.returncode == 0, made.stderr
        assert made.stdout.startswith("created agent gardener (id ")
        assert "language en" in made.stdout

        listed = stgy("agents", "list", env=env)
        assert listed.returncode == 0, listed.stderr
        row = _row(listed.stdout, "gardener")
        assert row[1:3] == ["active", "en"] and row[3] == "0"  # no calls yet

        assert stgy("agents", "pause", "gardener", env=env).stdout == "gardener: paused\n"
        assert _row(stgy("agents", "list", env=env).stdout, "gardener")[1] == "paused"
        resumed = stgy("agents", "resume", "gardener", env=env)
        assert resumed.stdout == "gardener: running again\n"

        ran = stgy("agents", "run-once", "gardener", env=env)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("gardener: read ")
        assert "did: " in ran.stdout, ran.stdout
        assert fake.authorizations and all(a == f"Bearer {KEY}" for a in fake.authorizations)
        assert KEY not in ran.stdout + ran.stderr
        row = _row(stgy("agents", "list", env=env).stdout, "gardener")
        assert int(row[3]) >= 1 and int(row[6]) >= 1  # calls and actions counted

        # An existing account made an agent and back.
        person = stgy(
            "users", "create", "plainperson", "--email", "plain@example.com",
            "--password", "a long enough password", env=env,
        )  # fmt: skip
        assert person.returncode == 0, person.stderr
        converted = stgy("agents", "convert", "plainperson", "--persona", "Now a bot.", env=env)
        assert converted.stdout == "plainperson: now an agent\n", converted.stderr
        assert _row(stgy("agents", "list", env=env).stdout, "plainperson")[1] == "active"
        back = stgy("agents", "convert", "plainperson", "--back", env=env)
        assert back.stdout == "plainperson: an ordinary account again\n", back.stderr
        assert "plainperson" not in stgy("agents", "list", env=env).stdout

        refused = stgy("agents", "delete", "gardener", env=env)
        assert refused.returncode != 0
        deleted = stgy("agents", "delete", "gardener", "--yes", env=env)
        assert deleted.stdout == "gardener: deleted\n", deleted.stderr
        assert stgy("agents", "list", env=env).stdout.rstrip().endswith("no agents")
        unknown = stgy("agents", "run-once", "gardener", env=env)
        assert unknown.returncode != 0 and unknown.stderr.strip()
    finally:
        asyncio.run(db.drop_database(url))


async def test_each_agents_calls_tokens_and_actions_are_in_metrics(
    ai: Services, runtime: AgentRuntime, fake: FakeModel
) -> None:
    bot = await agent(ai)
    fake.default = {
        "posts": [],
        "accounts": [],
        "new_post": "Soil first, then seeds.",
        "interests": "",
        "interest_tags": [],
    }
    done = await run_agent(ai, runtime, bot.account_id, force=True)
    assert done.did, done
    exposed = metrics.render("q", metrics.Figures()).decode()
    calls = f'stgy_agent_model_calls_total{{agent="{bot.handle}",outcome="ok"}}'
    assert calls in exposed
    assert f'stgy_agent_tokens_total{{agent="{bot.handle}",kind="prompt"}}' in exposed
    actions = [line for line in exposed.splitlines() if line.startswith("stgy_agent_actions_total")]
    assert any(f'agent="{bot.handle}"' in line for line in actions), (done, actions)
