"""Managing agents (the CLI and the admin API): create, turn an account into an agent
and back, pause, resume, delete, list; and what a profile shows of an agent."""

from __future__ import annotations

import secrets

from stgy.domain import admin
from stgy.domain.agents import prompts
from stgy.domain.errors import Conflict, Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.domain.text import check_storable
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import agents as agents_sql
from storage.accounts import Account
from storage.agents import Agent

MAX_PERSONA = 5000
# Agents have no mailbox: a reserved top-level domain (RFC 2606) nothing is sent to.
AGENT_EMAIL_DOMAIN = "agents.invalid"


def check_persona(persona: str) -> str:
    check_storable("persona", persona)
    persona = persona.strip()
    if not persona:
        raise Invalid("persona", "required (not blank)")
    if len(persona) > MAX_PERSONA:
        raise Invalid("persona", f"at most {MAX_PERSONA} characters")
    return persona


def check_language(language: str) -> str:
    if language.strip().lower() not in prompts.LANGUAGES:
        raise Invalid("language", "one of " + ", ".join(prompts.LANGUAGES))
    return language.strip().lower()


async def local_account(services: Services, handle: str) -> Account:
    async with services.pool.acquire() as conn:
        account = await accounts_sql.find_by_handle(conn, handle=handle.lstrip("@"), domain=None)
    if account is None or not account.active:
        raise NotFound(f"no local account {handle!r}")
    return account


async def make_agent(services: Services, account_id: int, persona: str, language: str) -> Agent:
    """Turn a local account into an agent: its `bot` flag set (its actor becomes a
    Service) and its persona kept, in one transaction."""
    persona = check_persona(persona)
    language = check_language(language)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            account = await accounts_sql.get_account(conn, account_id=account_id)
            if account is None or not account.active or not account.is_local:
                raise NotFound("no such local account")
            if not await agents_sql.insert_agent(
                conn, account_id=account_id, persona=persona, language=language
            ):
                raise Conflict({"field": "account", "reason": "already an agent"})
            await accounts_sql.update_profile(conn, account_id=account_id, changes={"bot": True})
            event = await outbox.record_event(conn, "account.updated", {"account_id": account_id})
        agent = await agents_sql.get_agent(conn, account_id=account_id)
    await outbox.enqueue_events(services.jobs, [event])
    assert agent is not None  # noqa: S101 - written above
    return agent


async def unmake_agent(services: Services, account_id: int) -> None:
    """An agent becomes an ordinary account again (its memory goes, its posts stay)."""
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            if not await agents_sql.delete_agent(conn, account_id=account_id):
                raise NotFound("not an agent")
            await accounts_sql.update_profile(conn, account_id=account_id, changes={"bot": False})
            event = await outbox.record_event(conn, "account.updated", {"account_id": account_id})
    await outbox.enqueue_events(services.jobs, [event])


async def create_agent(services: Services, *, handle: str, persona: str, language: str) -> Agent:
    """A new local account driven by the model (a random password nobody is told)."""
    persona = check_persona(persona)
    language = check_language(language)
    account_id = await admin.create_user(
        services,
        handle=handle,
        email=f"{handle.lower()}@{AGENT_EMAIL_DOMAIN}",
        password=secrets.token_urlsafe(24),
        role="user",
    )
    return await make_agent(services, account_id, persona, language)


async def get_agent(services: Services, account_id: int) -> Agent:
    async with services.pool.acquire() as conn:
        agent = await agents_sql.get_agent(conn, account_id=account_id)
    if agent is None:
        raise NotFound("not an agent")
    return agent


async def agent_profile(services: Services, account_id: int) -> tuple[str, str] | None:
    """(persona, language) when the account is one of our agents, else None."""
    async with services.pool.acquire() as conn:
        return await agents_sql.agent_profile(conn, account_id=account_id)


async def list_agents(services: Services) -> list[Agent]:
    async with services.pool.acquire() as conn:
        return await agents_sql.list_agents(conn)


async def set_paused(services: Services, account_id: int, *, paused: bool) -> Agent:
    async with services.pool.acquire() as conn:
        if not await agents_sql.set_paused(conn, account_id=account_id, paused=paused):
            raise NotFound("not an agent")
    return await get_agent(services, account_id)


async def set_persona(services: Services, account_id: int, *, persona: str, language: str) -> Agent:
    persona = check_persona(persona)
    language = check_language(language)
    async with services.pool.acquire() as conn:
        if not await agents_sql.set_persona(
            conn, account_id=account_id, persona=persona, language=language
        ):
            raise NotFound("not an agent")
    return await get_agent(services, account_id)


async def delete_agent(services: Services, handle: str) -> None:
    """Delete an agent's account with its posts, as an admin deletes a user."""
    account = await local_account(services, handle)
    await get_agent(services, account.id)
    await admin.delete_user(services, account.handle)


async def schedule_due(services: Services, *, limit: int = 500) -> list[int]:
    """Agents whose run is due, each given its next (jittered) run time."""
    if not services.config.ai.enabled:
        return []
    async with services.pool.acquire() as conn:
        return await agents_sql.claim_due(
            conn, interval_seconds=float(services.config.ai.interval), limit=limit
        )
