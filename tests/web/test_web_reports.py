"""The report form and the moderation pages through the app (no browser): forms that work
without JavaScript, errors shown on the page, roles refused, audit rows written."""

from __future__ import annotations

from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_reports import _count, _post, staff
from tests.web.test_web_forms import post_form
from tests.web.test_web_posts import web_login


async def _page(client: Client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    body = await response.get_data(as_text=True)
    assert response.status_code == status, (path, body[-2000:])
    return body


async def test_report_form_and_moderation_pages(app: Quart, services: Services) -> None:
    api = app.test_client()
    alice, bob = await make_user(api), await make_user(api)
    post = await _post(api, bob, "a post to report, with *words*")
    moderator = await staff(api, services)
    admin = await staff(api, services, "admin")

    reader = app.test_client()
    token = await web_login(reader, alice)
    profile = await _page(reader, f"/@{bob.handle}")
    assert f'href="/report?account={bob.id}"' in profile
    page = await _page(reader, f"/@{bob.handle}/{post['id']}")
    assert f'href="/report?account={bob.id}&amp;post={post["id"]}"' in page
    form = await _page(reader, f"/report?account={bob.id}&post={post['id']}")
    assert f"Report @{bob.handle}" in form and f'value="{post["id"]}" checked' in form
    assert 'name="forward"' not in form  # a local account: nothing to forward
    await _page(reader, f"/report?account={alice.id}", 400)  # oneself
    await _page(reader, "/report?account=nope", 404)

    fields = {"csrf_token": token, "account": bob.id, "offered": post["id"], "post": post["id"]}
    status, body, _ = await post_form(reader, "/report", {**fields, "category": "nope"})
    assert status == 400 and 'id="f-category-error"' in body and "one of spam" in body
    status, body, _ = await post_form(
        reader, "/report", {**fields, "category": "spam", "comment": "x" * 1001}
    )
    assert status == 400 and 'id="f-comment-error"' in body
    assert (
        await _count(
            services, "SELECT count(*) FROM reports WHERE target_account_id = $1", int(bob.id)
        )
        == 0
    )
    status, _, response = await post_form(
        reader, "/report", {**fields, "category": "spam", "comment": "ads"}
    )
    assert status == 303 and response.headers["Location"] == "/report/sent?forwarded=0"
    assert "Report sent" in await _page(reader, "/report/sent?forwarded=0")
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, category, comment, post_ids FROM reports WHERE target_account_id = $1",
            int(bob.id),
        )
    assert row["category"] == "spam" and row["post_ids"] == [int(post["id"])]
    report_id = row["id"]

    # Not for users; nobody logged in is sent to log in.
    await _page(reader, "/admin/", 403)
    await _page(reader, f"/admin/reports/{report_id}", 403)
    anonymous = await app.test_client().get("/admin/reports")
    assert anonymous.status_code == 303 and "/auth/login" in anonymous.headers["Location"]

    mod = app.test_client()
    mod_token = await web_login(mod, moderator)
    assert 'href="/admin/"' in await _page(mod, "/")
    assert "Open reports" in await _page(mod, "/admin/")
    assert f"/admin/reports/{report_id}" in await _page(mod, "/admin/reports")
    assert f"/admin/reports/{report_id}" not in await _page(mod, "/admin/reports?state=resolved")
    detail = await _page(mod, f"/admin/reports/{report_id}")
    assert "<em>words</em>" in detail and f"/admin/accounts/{bob.id}" in detail
    base = f"/admin/reports/{report_id}"
    status, body, _ = await post_form(mod, f"{base}/notes", {"csrf_token": mod_token, "body": " "})
    assert status == 400 and 'id="f-body-error"' in body
    status, _, response = await post_form(
        mod, f"{base}/notes", {"csrf_token": mod_token, "body": "first warning"}
    )
    assert status == 303 and response.headers["Location"] == f"{base}?saved=1"
    status, _, _ = await post_form(
        mod, f"{base}/resolve", {"csrf_token": mod_token, "comment": "done"}
    )
    assert status == 303
    status, body, _ = await post_form(mod, f"{base}/resolve", {"csrf_token": mod_token})
    assert status == 409 and "resolved already" in body
    detail = await _page(mod, f"{base}?saved=1")
    assert "first warning" in detail and "Reopen report" in detail and "Saved." in detail
    status, _, _ = await post_form(mod, f"{base}/reopen", {"csrf_token": mod_token})
    assert status == 303 and "Resolve report" in await _page(mod, base)

    # The audit log: admins only, with filters.
    await _page(mod, "/admin/audit", 403)
    boss = app.test_client()
    await web_login(boss, admin)
    log = await _page(boss, f"/admin/audit?target_type=report&target={report_id}")
    for action in ("report.create", "report.note", "report.resolve", "report.reopen"):
        assert action in log
    notes_only = await _page(boss, f"/admin/audit?actor={moderator.handle}&action=report.note")
    assert "<code>report.note</code>" in notes_only
    assert "<code>report.resolve</code>" not in notes_only
    assert "Nothing in the log matches." in await _page(boss, "/admin/audit?actor=nobody-at-all")
