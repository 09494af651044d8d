"""Fixtures for the agent tests: the fake model server and services with [ai] on."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

import pytest

from stgy.domain import admin
from stgy.domain.agents import manage
from stgy.domain.agents.runtime import AgentRuntime
from stgy.services import Services
from storage.agents import Agent
from tests.agents.fake_model import FakeModel, start_fake_model
from tests.conftest import unique_handle


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeModel]:
    fake, server = start_fake_model()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(fake_server: FakeModel) -> FakeModel:
    fake_server.reset()
    return fake_server


@pytest.fixture
def ai(services: Services, fake: FakeModel) -> Services:
    """The session's services with [ai] on, talking to the fake model server."""
    config = services.config.replace(
        "ai",
        enabled=True,
        base_url=fake.url,
        api_key="test-key-not-logged",
        timeout=2.0,
        retries=1,
        requests_per_minute=100000,
        actions_per_run=5,
        reply_cooldown=3600,
    )
    return dataclasses.replace(services, config=config)


@pytest.fixture
async def runtime(ai: Services) -> AsyncIterator[AgentRuntime]:
    made = AgentRuntime.make(ai.config)
    yield made
    await made.aclose()


@dataclasses.dataclass(frozen=True)
class Person:
    id: int
    handle: str


async def person(services: Services, prefix: str = "p") -> Person:
    handle = unique_handle(prefix)
    account_id = await admin.create_user(
        services,
        handle=handle,
        email=f"{handle}@example.com",
        password="correct battery staple horse",
        role="user",
    )
    return Person(account_id, handle)


async def agent(
    services: Services, persona: str = "A gardener who loves tomatoes.", language: str = "en"
) -> Agent:
    return await manage.create_agent(
        services, handle=unique_handle("bot"), persona=persona, language=language
    )
