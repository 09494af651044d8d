"""The account moderation pages (/admin/accounts, /admin/applicants, /admin/roles) in
process, for each role (issue 17A)."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.domain import roles
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_account_actions import audit_actions, promote, web_login
from tests.integration.test_applicants import apply
from tests.web.test_web_forms import csrf_of, post_form


async def test_web_pages_for_each_role(client: Client, services: Services) -> None:
    moderator, target, user, admin = [await make_user(client) for _ in range(4)]
    await promote(services, moderator, roles.MODERATOR)
    await promote(services, admin, roles.ADMIN)
    applicant, applicant_handle, _ = await apply(services, "let me in")

    await web_login(client, user)
    for path in ("/admin/accounts", f"/admin/accounts/{target.id}", "/admin/applicants"):
        assert (await client.get(path)).status_code == 403, path
    await client.post("/auth/logout", form={"csrf_token": await csrf_of(client, "/")})

    await web_login(client, moderator)
    page = await client.get(f"/admin/accounts?q={target.handle}&origin=local&state=active")
    text = await page.get_data(as_text=True)
    assert page.status_code == 200 and f"@{target.handle}" in text
    assert 'href="/admin/roles"' not in text  # the nav shows admin sections to admins only
    assert (await client.get("/admin/accounts?state=sleepy")).status_code == 400
    assert (await client.get("/admin/roles")).status_code == 403
    token = await csrf_of(client, f"/admin/accounts/{target.id}")
    path = f"/admin/accounts/{target.id}"
    status, text, _ = await post_form(
        client, path, {"csrf_token": token, "action": "warn", "comment": ""}
    )
    assert status == 400 and "a warning needs its text" in text
    for action in ("limit", "suspend", "unsuspend"):
        status, text, response = await post_form(
            client, path, {"csrf_token": token, "action": action, "comment": f"web {action}"}
        )
        assert status == 303, text
    status, text, _ = await post_form(
        client, path, {"csrf_token": token, "action": "delete", "comment": ""}
    )
    assert status == 400 and "Tick the box" in text
    shown = await (await client.get(path)).get_data(as_text=True)
    assert "web suspend" in shown and "Limited" in shown
    # Applicants.
    listed = await (await client.get("/admin/applicants")).get_data(as_text=True)
    assert "let me in" in listed and applicant_handle in listed
    status, text, _ = await post_form(
        client, f"/admin/applicants/{applicant}/approve", {"csrf_token": token, "comment": ""}
    )
    assert status == 303, text
    status, text, _ = await post_form(
        client, f"/admin/applicants/{applicant}/approve", {"csrf_token": token, "comment": ""}
    )
    assert status == 409 and "already approved" in text
    await client.post("/auth/logout", form={"csrf_token": token})

    await web_login(client, admin)
    roles_page = await client.get("/admin/roles")
    assert roles_page.status_code == 200
    token = await csrf_of(client, "/admin/roles")
    status, text, _ = await post_form(
        client, "/admin/roles", {"csrf_token": token, "handle": "nobody_here", "role": "admin"}
    )
    assert status == 404 and "No local account has this handle." in text
    status, text, _ = await post_form(
        client,
        "/admin/roles",
        {"csrf_token": token, "handle": target.handle, "role": "moderator", "comment": ""},
    )
    assert status == 303, text
    assert await audit_actions(services, target.id) == [
        "account.limit",
        "account.suspend",
        "account.unsuspend",
        "account.role",
    ]
    assert await audit_actions(services, applicant) == ["account.approve"]
