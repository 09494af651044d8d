"""Reports through the native API: people report, moderators handle, every action leaves
its audit row, nothing half-written on bad input, a forwarded report is a Flag from the
instance actor that does not name the reporter."""

from __future__ import annotations

import json
from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.conftest import User, make_user, unique_handle


async def _role(services: Services, user: User, role: str) -> None:
    async with services.pool.acquire() as conn:
        await conn.execute("UPDATE users SET role = $2 WHERE account_id = $1", int(user.id), role)


async def staff(client: Client, services: Services, role: str = "moderator") -> User:
    user = await make_user(client, unique_handle(role[:3]))
    await _role(services, user, role)
    return user


async def _post(client: Client, user: User, text: str) -> dict[str, Any]:
    response = await client.post("/api/posts", json={"text": text}, headers=user.auth)
    assert response.status_code == 201, await response.get_data(as_text=True)
    found: dict[str, Any] = await response.get_json()
    return found


async def _json(response: Any, status: int) -> Any:
    body = await response.get_data(as_text=True)
    assert response.status_code == status, body
    return json.loads(body) if body else None


async def _count(services: Services, query: str, *args: Any) -> int:
    async with services.pool.acquire() as conn:
        found: int = await conn.fetchval(query, *args)
    return found


async def test_report_handle_and_audit(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    moderator = await staff(client, services)
    admin = await staff(client, services, "admin")
    first = await _post(client, bob, "buy cheap watches")
    second = await _post(client, bob, "more spam")
    made = await _json(
        await client.post(
            "/api/reports",
            json={
                "account_id": bob.id,
                "post_ids": [first["id"]],
                "category": "spam",
                "comment": "selling things",
            },
            headers=alice.auth,
        ),
        201,
    )
    report_id = made["id"]
    assert made["post_ids"] == [first["id"]] and made["forwarded"] is False

    # Bad input: 4xx naming the field, and no row written.
    before = await _count(
        services, "SELECT count(*) FROM reports WHERE target_account_id = $1", int(bob.id)
    )
    other = await _post(client, alice, "mine")
    for body, status, field in (
        ({"account_id": bob.id, "category": "nope"}, 400, "category"),
        ({"account_id": bob.id, "post_ids": [other["id"]]}, 400, "post_ids"),
        ({"account_id": bob.id, "post_ids": ["x1"]}, 400, "post_ids.0"),
        ({"account_id": bob.id, "category": "spam", "rule_ids": ["1"]}, 400, "rule_ids"),
        ({"account_id": bob.id, "comment": "x" * 1001}, 400, "comment"),
        ({"account_id": bob.id, "forward": True}, 400, "forward"),
        ({"account_id": alice.id}, 400, "account_id"),
        ({"account_id": bob.id, "extra": 1}, 400, "extra"),
    ):
        answer = await _json(
            await client.post("/api/reports", json=body, headers=alice.auth), status
        )
        assert answer["detail"]["field"] == field, (body, answer)
    missing = await client.post("/api/reports", json={"account_id": "12345"}, headers=alice.auth)
    assert missing.status_code == 404
    assert (await client.post("/api/reports", json={"account_id": bob.id})).status_code == 401
    after = await _count(
        services, "SELECT count(*) FROM reports WHERE target_account_id = $1", int(bob.id)
    )
    assert after == before

    # A user sees no reports; a moderator does.
    assert (await client.get("/api/admin/reports", headers=alice.auth)).status_code == 403
    assert (
        await client.get(f"/api/admin/reports/{report_id}", headers=alice.auth)
    ).status_code == 403
    assert (await client.get("/api/admin/reports")).status_code == 401
    page = await _json(await client.get("/api/admin/reports", headers=moderator.auth), 200)
    assert report_id in [r["id"] for r in page["reports"]]

    # The post as reported, though edited and then deleted since.
    edited = await client.patch(
        f"/api/posts/{first['id']}", json={"text": "nothing to see"}, headers=bob.auth
    )
    assert edited.status_code == 200, await edited.get_data(as_text=True)
    detail = await _json(
        await client.get(f"/api/admin/reports/{report_id}", headers=moderator.auth), 200
    )
    assert detail["posts"][0]["text"] == "buy cheap watches" and detail["posts"][0]["edited_since"]
    assert (await client.delete(f"/api/posts/{first['id']}", headers=bob.auth)).status_code == 200
    detail = await _json(
        await client.get(f"/api/admin/reports/{report_id}", headers=moderator.auth), 200
    )
    assert detail["posts"][0]["deleted_since"] and "watches" in detail["posts"][0]["html"]
    assert detail["reporter"]["acct"] == alice.handle and detail["account"]["acct"] == bob.handle

    # Notes, resolve, reopen; each once.
    url = f"/api/admin/reports/{report_id}"
    note = await _json(
        await client.post(f"{url}/notes", json={"body": "looks like spam"}, headers=moderator.auth),
        201,
    )
    assert note["author"] == moderator.handle
    assert (
        await client.post(f"{url}/notes", json={"body": "  "}, headers=moderator.auth)
    ).status_code == 400
    assert (
        await client.post(f"{url}/notes", json={"body": "x"}, headers=alice.auth)
    ).status_code == 403
    done = await _json(
        await client.post(f"{url}/resolve", json={"comment": "warned"}, headers=moderator.auth), 200
    )
    assert done["state"] == "resolved" and done["resolved_by"] == moderator.handle
    assert done["resolution"] == "warned"
    assert (await client.post(f"{url}/resolve", json={}, headers=moderator.auth)).status_code == 409
    assert (await client.post(f"{url}/resolve", json={}, headers=alice.auth)).status_code == 403
    resolved = await _json(
        await client.get("/api/admin/reports?state=resolved", headers=moderator.auth), 200
    )
    assert report_id in [r["id"] for r in resolved["reports"]]
    again = await _json(
        await client.post(f"{url}/reopen", json={"comment": "came back"}, headers=moderator.auth),
        200,
    )
    assert again["state"] == "open" and again["resolved_by"] is None
    assert (await client.post(f"{url}/reopen", json={}, headers=moderator.auth)).status_code == 409
    assert (await client.get("/api/admin/reports/999", headers=moderator.auth)).status_code == 404

    # A second report about bob shows the first in its history.
    second_report = await _json(
        await client.post(
            "/api/reports",
            json={"account_id": bob.id, "post_ids": [second["id"]], "category": "other"},
            headers=alice.auth,
        ),
        201,
    )
    history = await _json(
        await client.get(f"/api/admin/reports/{second_report['id']}", headers=moderator.auth), 200
    )
    assert [r["id"] for r in history["other_reports"]] == [report_id]

    # Every action left its audit row; admins read them, moderators do not.
    assert (await client.get("/api/admin/audit", headers=moderator.auth)).status_code == 403
    log = await _json(
        await client.get(
            f"/api/admin/audit?target_type=report&target={report_id}", headers=admin.auth
        ),
        200,
    )
    assert [e["action"] for e in log["entries"]] == [
        "report.reopen",
        "report.resolve",
        "report.note",
        "report.create",
    ]
    assert (
        log["entries"][1]["comment"] == "warned" and log["entries"][1]["actor"] == moderator.handle
    )
    assert log["entries"][3]["actor"] == alice.handle
    by_actor = await _json(
        await client.get(
            f"/api/admin/audit?actor={moderator.handle}&action=report", headers=admin.auth
        ),
        200,
    )
    assert {e["action"] for e in by_actor["entries"]} == {
        "report.note",
        "report.resolve",
        "report.reopen",
    }
    paged = await _json(
        await client.get(
            f"/api/admin/audit?target_type=report&target={report_id}&limit=1&until={log['entries'][1]['id']}",
            headers=admin.auth,
        ),
        200,
    )
    assert [e["action"] for e in paged["entries"]] == ["report.note"]


async def test_dashboard_for_moderators(client: Client, services: Services) -> None:
    user = await make_user(client)
    moderator = await staff(client, services)
    assert (await client.get("/api/admin/dashboard", headers=user.auth)).status_code == 403
    figures = await _json(await client.get("/api/admin/dashboard", headers=moderator.auth), 200)
    open_reports = await _count(services, "SELECT count(*) FROM reports WHERE resolved_at IS NULL")
    assert figures["open_reports"] == open_reports
    assert figures["users"] >= 2 and figures["active_month"] >= 2
    assert isinstance(figures["queue_depth"], int) and figures["outbox_pending"] >= 0


async def test_forwarded_report_is_a_flag_without_the_reporter(
    client: Client, services: Services
) -> None:
    alice = await make_user(client)
    async with services.pool.acquire() as conn:
        remote = await conn.fetchval(
            "INSERT INTO accounts (handle, domain, ap_id, inbox_url, shared_inbox_url)"
            " VALUES ('troll', 'far.example', 'https://far.example/users/troll',"
            " 'https://far.example/users/troll/inbox', 'https://far.example/inbox') RETURNING id"
        )
        post = await conn.fetchval(
            "INSERT INTO posts (account_id, ap_id, html, local) VALUES ($1,"
            " 'https://far.example/notes/1', '<p>bad words</p>', false) RETURNING id",
            remote,
        )
    made = await _json(
        await client.post(
            "/api/reports",
            json={
                "account_id": str(remote),
                "post_ids": [str(post)],
                "comment": "rude",
                "forward": True,
            },
            headers=alice.auth,
        ),
        201,
    )
    assert made["forwarded"] is True
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT kwargs FROM durable_jobs WHERE kwargs->>'activity_id' LIKE '%#reports/' || $1",
            made["id"],
        )
    assert row is not None
    kwargs = json.loads(row["kwargs"])
    assert (
        kwargs["sender_id"] == 0 and kwargs["inbox_url"] == "https://far.example/users/troll/inbox"
    )
    flag = json.loads(kwargs["body"])
    base = services.config.instance.base_url
    assert flag["type"] == "Flag" and flag["actor"] == f"{base}/actor"
    assert flag["object"] == ["https://far.example/users/troll", "https://far.example/notes/1"]
    assert flag["content"] == "rude"
    assert alice.handle not in kwargs["body"] and alice.id not in kwargs["body"]
