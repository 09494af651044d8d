"""Roles and account actions, local and remote (issue 17A), through the domain and the
native API, each checked for each role; every action leaves its audit row. Applicants:
test_applicants.py; the pages: tests/web/test_web_admin_accounts.py."""

from __future__ import annotations

from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client
from saq import Worker

from stgy.domain import account_actions, applicants, roles
from stgy.domain.errors import Forbidden, Invalid
from stgy.services import Services
from tasks.context import JobContext
from tasks.worker import make_worker
from tests.conftest import User, make_user, unique_handle
from tests.integration.mail_support import read_spool, text_of
from tests.web.test_web_forms import csrf_of, post_form


async def promote(services: Services, user: User, role: str) -> roles.Staff:
    await applicants.set_role(services, roles.CLI, int(user.id), role)
    return roles.Staff(int(user.id), user.handle, role)


async def audit_actions(services: Services, account_id: int | str) -> list[str]:
    rows = await services.pool.fetch(
        "SELECT action FROM audit_log WHERE target_type = 'account' AND target = $1 ORDER BY id",
        str(account_id),
    )
    return [row["action"] for row in rows]


async def act(client: Client, staff: User, account: User | str, action: str, **body: Any) -> Any:
    target = account.id if isinstance(account, User) else account
    return await client.post(
        f"/api/admin/accounts/{target}/actions",
        json={"action": action, **body},
        headers=staff.auth,
    )


async def mails_to(services: Services, address: str) -> list[Any]:
    """Run the queued jobs (mails among them), then the spooled mails to `address`."""
    worker: Worker[JobContext] = make_worker(services, burst=True, dequeue_timeout=0.5)
    await worker.start()
    spool = services.config.mail_spool_path
    return [m for m in read_spool(spool) if m["To"] == address]


async def remote_account(services: Services, domain: str = "remote.example") -> int:
    handle = unique_handle("r")
    account_id: int = await services.pool.fetchval(
        "INSERT INTO accounts (handle, domain, ap_id, inbox_url, shared_inbox_url)"
        " VALUES ($1, $2, $3, $3 || '/inbox', $4) RETURNING id",
        handle,
        domain,
        f"https://{domain}/users/{handle}",
        f"https://{domain}/inbox",
    )
    return account_id


# --- roles --------------------------------------------------------------------------------


async def test_each_role_on_the_api(client: Client, services: Services) -> None:
    user, moderator, admin, target = [await make_user(client) for _ in range(4)]
    await promote(services, moderator, roles.MODERATOR)
    await promote(services, admin, roles.ADMIN)
    # A user: nothing; no login: 401.
    assert (await client.get("/api/admin/accounts")).status_code == 401
    for path in ("/api/admin/accounts", "/api/admin/applicants", "/api/admin/roles"):
        response = await client.get(path, headers=user.auth)
        assert response.status_code == 403, path
        assert "error" in await response.get_json()
    assert (await act(client, user, target, "limit")).status_code == 403
    # A moderator acts on accounts and reads applicants, but cannot change roles.
    listed = await client.get(f"/api/admin/accounts?q={target.handle}", headers=moderator.auth)
    assert listed.status_code == 200
    assert [a["id"] for a in (await listed.get_json())["accounts"]] == [target.id]
    assert (await client.get("/api/admin/applicants", headers=moderator.auth)).status_code == 200
    assert (await client.get("/api/admin/roles", headers=moderator.auth)).status_code == 403
    refused = await client.put(
        f"/api/admin/accounts/{target.id}/role", json={"role": "moderator"}, headers=moderator.auth
    )
    assert refused.status_code == 403
    mod_staff = roles.Staff(int(moderator.id), moderator.handle, roles.MODERATOR)
    with pytest.raises(Forbidden):
        await applicants.set_role(services, mod_staff, int(target.id), roles.ADMIN)
    with pytest.raises(Forbidden):  # nor act on an admin
        await account_actions.act(services, mod_staff, int(admin.id), "limit")
    assert await audit_actions(services, target.id) == []
    # An admin changes roles.
    made = await client.put(
        f"/api/admin/accounts/{target.id}/role",
        json={"role": "moderator", "comment": "helps out"},
        headers=admin.auth,
    )
    assert made.status_code == 200 and (await made.get_json())["role"] == "moderator"
    staff = await client.get("/api/admin/roles", headers=admin.auth)
    assert target.id in [a["id"] for a in (await staff.get_json())["accounts"]]
    assert await audit_actions(services, target.id) == ["account.role"]
    bad = await client.put(
        f"/api/admin/accounts/{target.id}/role", json={"role": "owner"}, headers=admin.auth
    )
    assert bad.status_code == 400 and (await bad.get_json())["detail"]["field"] == "role"


async def test_a_suspended_or_demoted_moderator_can_do_nothing(
    client: Client, services: Services
) -> None:
    moderator, target = await make_user(client), await make_user(client)
    staff = await promote(services, moderator, roles.MODERATOR)
    await account_actions.act(services, staff, int(target.id), "limit")
    await account_actions.act(services, roles.CLI, int(moderator.id), "suspend")
    # The Staff value made before the suspension is refused: the domain re-reads the role.
    with pytest.raises(Forbidden):
        await account_actions.act(services, staff, int(target.id), "unlimit")
    with pytest.raises(Forbidden):
        await account_actions.search(services, staff)
    assert (await client.get("/api/admin/accounts", headers=moderator.auth)).status_code == 401
    await account_actions.act(services, roles.CLI, int(moderator.id), "unsuspend")
    await applicants.set_role(services, roles.CLI, int(moderator.id), "user")
    with pytest.raises(Forbidden):
        await account_actions.act(services, staff, int(target.id), "unlimit")
    # Nobody acts on their own account; the last admin stays one.
    with pytest.raises(Forbidden):
        await account_actions.act(
            services, roles.Staff(int(target.id), target.handle, "admin"), int(target.id), "limit"
        )
    assert await audit_actions(services, target.id) == ["account.limit"]


async def test_the_last_admin_stays_one(client: Client, services: Services) -> None:
    async with services.pool.acquire() as conn:
        admins = await conn.fetch(
            "SELECT u.account_id FROM users u JOIN accounts a ON a.id = u.account_id"
            " WHERE u.role = 'admin' AND a.suspended_at IS NULL AND a.deleted_at IS NULL"
        )
    for row in admins:  # other tests' admins step down, so one is left
        await services.pool.execute("UPDATE users SET role = 'user' WHERE account_id = $1", row[0])
    only = await make_user(client)
    await promote(services, only, roles.ADMIN)
    with pytest.raises(Forbidden, match="last admin"):
        await applicants.set_role(services, roles.CLI, int(only.id), "user")
    second = await make_user(client)
    await promote(services, second, roles.ADMIN)
    await applicants.set_role(services, roles.CLI, int(only.id), "user")


# --- local account actions --------------------------------------------------------------------


async def test_local_actions_through_the_api(client: Client, services: Services) -> None:
    moderator, target, follower, stranger = [await make_user(client) for _ in range(4)]
    await promote(services, moderator, roles.MODERATOR)
    follow = await client.put(f"/api/accounts/{target.id}/follow", headers=follower.auth)
    assert follow.status_code in (200, 202, 204)
    word = f"zebra{target.id[-6:]}"
    post = await client.post("/api/posts", json={"text": f"hello {word}"}, headers=target.auth)
    assert post.status_code == 201
    post_id = (await post.get_json())["id"]

    # Warn: needs a text, which is mailed.
    missing = await act(client, moderator, target, "warn")
    assert missing.status_code == 400 and (await missing.get_json())["detail"]["field"] == "comment"
    warned = await act(client, moderator, target, "warn", comment="Please stop the spam.")
    assert warned.status_code == 200, await warned.get_data(as_text=True)
    mails = await mails_to(services, f"{target.handle}@example.com")
    assert any("Please stop the spam." in text_of(m) for m in mails)
    # ... and shown in the app: a notification with the text, the moderator unnamed; a
    # second warning is a notification of its own.
    await act(client, moderator, target, "warn", comment="Second: no more links.")
    listed = await client.get("/api/notifications", headers=target.auth)
    warnings = [
        n for n in (await listed.get_json())["notifications"] if n["type"] == "moderation_warning"
    ]
    assert [n["text"] for n in warnings] == ["Second: no more links.", "Please stop the spam."]
    assert all(n["account"]["id"] == target.id and n["post"] is None for n in warnings)
    assert moderator.handle not in str(warnings)
    browser = client.app.test_client()  # type: ignore[attr-defined]
    await web_login(browser, target)
    page = await (await browser.get("/notifications")).get_data(as_text=True)
    assert "The moderators of this server sent you a warning" in page
    assert "Please stop the spam." in page

    # Sensitive: its posts, old and new, are marked so.
    assert (await act(client, moderator, target, "sensitive")).status_code == 200
    assert await services.pool.fetchval("SELECT sensitive FROM posts WHERE id = $1", int(post_id))
    later = await client.post("/api/posts", json={"text": "again"}, headers=target.auth)
    later_id = int((await later.get_json())["id"])
    assert await services.pool.fetchval("SELECT sensitive FROM posts WHERE id = $1", later_id)
    again = await act(client, moderator, target, "sensitive")
    assert again.status_code == 409 and "error" in await again.get_json()

    # Limit: off the public timelines and search; followers still see its posts,
    # strangers do not.
    found = await client.get(f"/api/search?q={word}&type=posts", headers=stranger.auth)
    assert post_id in [p["id"] for p in (await found.get_json()).get("posts", [])]
    public = await client.get("/api/timelines/public?limit=100")
    assert post_id in [p["id"] for p in (await public.get_json())["posts"]]
    assert (await act(client, moderator, target, "limit")).status_code == 200
    public = await client.get("/api/timelines/public?limit=100")
    ids = [p["id"] for p in (await public.get_json())["posts"]] if public.status_code == 200 else []
    assert post_id not in ids
    found = await client.get(f"/api/search?q={word}&type=posts", headers=stranger.auth)
    assert post_id not in [p["id"] for p in (await found.get_json()).get("posts", [])]
    assert (await client.get(f"/api/posts/{post_id}", headers=follower.auth)).status_code == 200
    assert (await client.get(f"/api/posts/{post_id}", headers=stranger.auth)).status_code == 404
    assert (await act(client, moderator, target, "unlimit")).status_code == 200
    assert (await client.get(f"/api/posts/{post_id}", headers=stranger.auth)).status_code == 200

    # Suspend: logged out, logins refused, actor 410; unsuspend brings it back.
    suspended = await act(client, moderator, target, "suspend", comment="spam wave")
    assert (await suspended.get_json())["state"] == "suspended"
    assert (await client.get("/api/accounts/me", headers=target.auth)).status_code == 401
    login = await client.post(
        "/api/auth/login", json={"handle": target.handle, "password": target.password}
    )
    assert login.status_code == 403
    actor = await client.get(
        f"/users/{target.handle}", headers={"Accept": "application/activity+json"}
    )
    assert actor.status_code == 410
    # The profile is gone, for people as for servers.
    assert (await client.get(f"/api/accounts/{target.id}")).status_code == 404
    assert (await client.get(f"/@{target.handle}")).status_code == 404
    assert (await act(client, moderator, target, "unsuspend")).status_code == 200
    login = await client.post(
        "/api/auth/login", json={"handle": target.handle, "password": target.password}
    )
    assert login.status_code == 200

    page = await client.get(f"/api/admin/accounts/{target.id}", headers=moderator.auth)
    body = await page.get_json()
    assert body["account"]["sensitized_at"] and "unsensitive" in body["actions"]
    assert [e["action"] for e in body["history"]][:2] == ["account.unsuspend", "account.suspend"]
    assert body["history"][1]["comment"] == "spam wave"
    assert body["history"][1]["actor"] == moderator.handle

    # Delete.
    assert (await act(client, moderator, target, "delete")).status_code == 200
    assert (await act(client, moderator, target, "limit")).status_code == 404
    assert await audit_actions(services, target.id) == [
        "account.warn",
        "account.warn",
        "account.sensitive",
        "account.limit",
        "account.unlimit",
        "account.suspend",
        "account.unsuspend",
        "account.delete",
    ]


async def test_bad_input_is_a_4xx_naming_the_field(client: Client, services: Services) -> None:
    moderator, target = await make_user(client), await make_user(client)
    await promote(services, moderator, roles.MODERATOR)
    for body, field in (
        ({"action": "explode"}, "action"),
        ({"action": "limit", "comment": 5}, "comment"),
        ({"action": "limit", "extra": 1}, "extra"),
    ):
        response = await client.post(
            f"/api/admin/accounts/{target.id}/actions", json=body, headers=moderator.auth
        )
        assert response.status_code == 400, body
        assert field in str((await response.get_json())["detail"]), body
    response = await client.get("/api/admin/accounts?state=sleepy", headers=moderator.auth)
    assert response.status_code == 400
    response = await act(client, moderator, "12x", "limit")
    assert response.status_code in (400, 404)
    response = await act(client, moderator, target, "limit", comment="x" * 5001)
    assert response.status_code == 400
    assert await audit_actions(services, target.id) == []


# --- remote account actions ---------------------------------------------------------------------


async def test_remote_actions(client: Client, services: Services) -> None:
    local_user = await make_user(client)
    remote_id = await remote_account(services)
    await services.pool.execute(
        "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted'),"
        " ($2, $1, 'accepted')",
        int(local_user.id),
        remote_id,
    )
    post_id = await services.pool.fetchval(
        "INSERT INTO posts (account_id, ap_id, html) VALUES ($1, $2, '<p>hi</p>') RETURNING id",
        remote_id,
        f"https://remote.example/notes/{remote_id}",
    )
    await services.pool.execute(
        "INSERT INTO timeline_entries (owner_id, post_id, author_id) VALUES ($1, $2, $3)",
        int(local_user.id),
        post_id,
        remote_id,
    )
    with pytest.raises(Invalid):  # only limit, suspend and their lifts
        await account_actions.act(services, roles.CLI, remote_id, "warn", comment="x")
    with pytest.raises(Invalid):
        await account_actions.act(services, roles.CLI, remote_id, "delete")
    after = await account_actions.act(services, roles.CLI, remote_id, "limit")
    assert after.state == "limited"
    after = await account_actions.act(services, roles.CLI, remote_id, "suspend", comment="abuse")
    assert after.state == "suspended"
    follows = await services.pool.fetchval(
        "SELECT count(*) FROM follows WHERE follower_id = $1 OR followee_id = $1", remote_id
    )
    entries = await services.pool.fetchval(
        "SELECT count(*) FROM timeline_entries WHERE author_id = $1", remote_id
    )
    assert follows == 0 and entries == 0
    events = await services.pool.fetch(
        "SELECT payload FROM outbox_events WHERE kind = 'follow.removed'"
        " AND (payload->>'follower_id')::bigint = $1 OR (payload->>'followee_id')::bigint = $1",
        remote_id,
    )
    assert len(events) == 2
    found = await account_actions.search(
        services, roles.CLI, query="remote.example", origin="remote"
    )
    assert remote_id in [a.id for a in found]
    found = await account_actions.search(services, roles.CLI, origin="local", state="suspended")
    assert remote_id not in [a.id for a in found]
    await account_actions.act(services, roles.CLI, remote_id, "unsuspend")
    await account_actions.act(services, roles.CLI, remote_id, "unlimit")
    assert await audit_actions(services, remote_id) == [
        "account.limit",
        "account.suspend",
        "account.unsuspend",
        "account.unlimit",
    ]


# --- a browser's session (the web pages' tests use it too) ---------------------------


async def web_login(client: Client, user: User) -> None:
    token = await csrf_of(client)
    status, text, _ = await post_form(
        client,
        "/auth/login",
        {"csrf_token": token, "login": user.handle, "password": user.password},
    )
    assert status == 303, text


# --- the moderation sweep -------------------------------------------------------------------


async def test_the_sweep_announces_and_purges_old_suspensions(
    client: Client, services: Services
) -> None:
    kept, purged = await make_user(client), await make_user(client)
    for user in (kept, purged):
        await account_actions.act(services, roles.CLI, int(user.id), "suspend")
    # Nothing is due while the grace period and the keeping time last.
    await account_actions.sweep(services)
    announced = await services.pool.fetchval(
        "SELECT suspension_announced_at FROM accounts WHERE id = $1", int(kept.id)
    )
    assert announced is None
    # `purged` was suspended long ago (the clock moved back in the row, not in the test).
    await services.pool.execute(
        "UPDATE accounts SET suspended_at = now() - interval '31 days' WHERE id = $1",
        int(purged.id),
    )
    await account_actions.sweep(services)
    rows = await services.pool.fetch(
        "SELECT id, deleted_at, suspension_announced_at FROM accounts WHERE id = ANY($1)",
        [int(kept.id), int(purged.id)],
    )
    state = {str(row["id"]): row for row in rows}
    assert state[purged.id]["deleted_at"] is not None
    assert state[purged.id]["suspension_announced_at"] is not None
    assert (
        state[kept.id]["deleted_at"] is None and state[kept.id]["suspension_announced_at"] is None
    )
    assert await audit_actions(services, purged.id) == ["account.suspend", "account.purge"]
    # Run again: nothing changes a second time.
    await account_actions.sweep(services)
    assert await audit_actions(services, purged.id) == ["account.suspend", "account.purge"]
