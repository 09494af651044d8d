"""Registrations in approval mode: applicants approved or rejected, with a mail either
way, by moderators (issue 17A); each decision leaves its audit row."""

from __future__ import annotations

import dataclasses

import pytest
from quart.typing import TestClientProtocol as Client

from stgy.domain import accounts, applicants, roles
from stgy.domain.errors import Conflict
from stgy.services import Services
from tests.conftest import make_user, unique_handle
from tests.integration.mail_support import text_of
from tests.integration.test_account_actions import audit_actions, mails_to, promote


async def apply(services: Services, reason: str = "I like the place") -> tuple[int, str, str]:
    approval = dataclasses.replace(
        services, config=services.config.replace("instance", registrations="approval")
    )
    handle = unique_handle("ap")
    password = f"{handle[::-1]} the password"
    made = await accounts.register(
        approval,
        handle=handle,
        display_name=handle,
        password=password,
        email=f"{handle}@example.com",
        reason=reason,
    )
    return made.account.id, handle, password


async def test_applicants_are_approved_or_rejected(client: Client, services: Services) -> None:
    moderator, user = await make_user(client), await make_user(client)
    await promote(services, moderator, roles.MODERATOR)
    first, first_handle, password = await apply(services)
    second, second_handle, _ = await apply(services, "spam?")
    login = {"handle": first_handle, "password": password}
    assert (await client.post("/api/auth/login", json=login)).status_code == 403
    assert (await client.get("/api/admin/applicants", headers=user.auth)).status_code == 403
    listed = await client.get("/api/admin/applicants", headers=moderator.auth)
    waiting = {a["id"]: a for a in (await listed.get_json())["accounts"]}
    assert waiting[str(first)]["registration_reason"] == "I like the place"
    assert str(second) in waiting and waiting[str(second)]["state"] == "pending"
    refused = await client.post(
        f"/api/admin/applicants/{first}/approve", json={}, headers=user.auth
    )
    assert refused.status_code == 403
    approved = await client.post(
        f"/api/admin/applicants/{first}/approve",
        json={"comment": "welcome"},
        headers=moderator.auth,
    )
    assert approved.status_code == 200 and (await approved.get_json())["state"] == "active"
    assert (await client.post("/api/auth/login", json=login)).status_code == 200
    again = await client.post(
        f"/api/admin/applicants/{first}/approve", json={}, headers=moderator.auth
    )
    assert again.status_code == 409
    rejected = await client.post(
        f"/api/admin/applicants/{second}/reject", json={"comment": "no"}, headers=moderator.auth
    )
    assert rejected.status_code == 204
    assert await services.pool.fetchval("SELECT count(*) FROM accounts WHERE id = $1", second) == 0
    approved_mail = await mails_to(services, f"{first_handle}@example.com")
    rejected_mail = await mails_to(services, f"{second_handle}@example.com")
    assert any("approved" in m["Subject"] and "welcome" in text_of(m) for m in approved_mail)
    assert any("did not approve" in text_of(m) for m in rejected_mail)
    assert await audit_actions(services, first) == ["account.approve"]
    assert await audit_actions(services, second) == ["account.reject"]
    with pytest.raises(Conflict):
        await applicants.approve(services, roles.CLI, first)
