"""Native API: AI agents. Admins manage them; anyone reads an agent's persona on its
account (`GET /api/accounts/{id}` carries `agent`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.serializers import iso
from stgy.domain.agents import manage
from stgy.domain.errors import Forbidden
from stgy.http.context import require_viewer, services
from stgy.http.validation import RequestModel, json_body, parse_id, responds
from storage.agents import Agent

bp = Blueprint("agents", __name__, url_prefix="/api/admin/agents")


class AgentProfileOut(BaseModel):
    persona: str
    language: str = Field(description="en or ja: the language of its prompts and posts")


class AccountWithAgentOut(schemas.AccountOut):
    agent: AgentProfileOut | None = Field(
        description="set when the account is an AI agent of this instance"
    )


class AgentOut(BaseModel):
    account_id: str
    handle: str
    persona: str
    language: str
    paused: bool
    interests: str
    interest_tags: list[str]
    next_run_at: str
    last_run_at: str | None
    last_error: str | None
    calls: int
    prompt_tokens: int
    completion_tokens: int
    actions: int
    failures: int


class AgentListOut(BaseModel):
    agents: list[AgentOut]


class AgentCreateIn(RequestModel):
    handle: str
    persona: str
    language: str = "en"


class AgentPersonaIn(RequestModel):
    persona: str
    language: str = "en"


def agent_profile_json(profile: tuple[str, str] | None) -> dict[str, Any] | None:
    return None if profile is None else {"persona": profile[0], "language": profile[1]}


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "account_id": str(agent.account_id),
        "handle": agent.handle,
        "persona": agent.persona,
        "language": agent.language,
        "paused": agent.paused,
        "interests": agent.interests,
        "interest_tags": agent.interest_tags,
        "next_run_at": iso(agent.next_run_at),
        "last_run_at": iso(agent.last_run_at) if agent.last_run_at else None,
        "last_error": agent.last_error,
        "calls": agent.calls,
        "prompt_tokens": agent.prompt_tokens,
        "completion_tokens": agent.completion_tokens,
        "actions": agent.actions,
        "failures": agent.failures,
    }


async def _require_admin() -> None:
    viewer = await require_viewer()
    if viewer.role != "admin":
        raise Forbidden("admins only")


@bp.get("")
@responds(AgentListOut)
@schemas.fails_with(401, 403)
async def list_agents() -> Response:
    await _require_admin()
    agents = await manage.list_agents(services())
    return jsonify({"agents": [agent_json(a) for a in agents]})


@bp.post("")
@json_body(AgentCreateIn)
@responds(AgentOut, 201)
@schemas.fails_with(400, 401, 403, 409)
async def create_agent(body: AgentCreateIn) -> tuple[Response, int]:
    await _require_admin()
    agent = await manage.create_agent(
        services(), handle=body.handle, persona=body.persona, language=body.language
    )
    return jsonify(agent_json(agent)), 201


@bp.put("/<account_id>")
@json_body(AgentPersonaIn)
@responds(AgentOut)
@schemas.fails_with(400, 401, 403, 404)
async def put_agent(account_id: str, body: AgentPersonaIn) -> Response:
    """Make a local account an agent, or change an agent's persona and language."""
    await _require_admin()
    found = parse_id(account_id, "account")
    if await manage.agent_profile(services(), found) is None:
        agent = await manage.make_agent(services(), found, body.persona, body.language)
    else:
        agent = await manage.set_persona(
            services(), found, persona=body.persona, language=body.language
        )
    return jsonify(agent_json(agent))


@bp.delete("/<account_id>")
@responds(None, 204)
@schemas.fails_with(401, 403, 404)
async def unmake_agent(account_id: str) -> tuple[str, int]:
    """The agent becomes an ordinary account again (its posts stay)."""
    await _require_admin()
    await manage.unmake_agent(services(), parse_id(account_id, "account"))
    return "", 204


@bp.post("/<account_id>/pause")
@responds(AgentOut)
@schemas.fails_with(401, 403, 404)
async def pause_agent(account_id: str) -> Response:
    await _require_admin()
    agent = await manage.set_paused(services(), parse_id(account_id, "account"), paused=True)
    return jsonify(agent_json(agent))


@bp.post("/<account_id>/resume")
@responds(AgentOut)
@schemas.fails_with(401, 403, 404)
async def resume_agent(account_id: str) -> Response:
    await _require_admin()
    agent = await manage.set_paused(services(), parse_id(account_id, "account"), paused=False)
    return jsonify(agent_json(agent))
