"""/admin/domains, /admin/rules, /admin/settings in process (issue 17): admins only,
forms without JavaScript, errors shown in the page with a 4xx, every action audited."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from stgy.domain import instance_settings
from stgy.domain.roles import CLI
from stgy.services import Services
from tests.conftest import unique_handle
from tests.web.test_web_forms import csrf_of, post_form, sign_up


async def _signed_up(client: Client, services: Services, role: str) -> str:
    handle = unique_handle("adm")
    status, _, _ = await sign_up(client, handle)
    assert status == 303
    async with services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE users SET role = $2 WHERE account_id ="
            " (SELECT id FROM accounts WHERE handle = $1 AND domain IS NULL)",
            handle,
            role,
        )
    return handle


def _upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="text/csv")


@pytest.fixture
async def restore_settings(services: Services) -> AsyncIterator[None]:
    yield
    await instance_settings.update(
        services,
        CLI,
        {name: None for name in instance_settings.FIELDS} | {"show_domain_blocks": False},
    )


async def test_logged_out_and_moderators_are_kept_out(client: Client, services: Services) -> None:
    for path in ("/admin/domains", "/admin/rules", "/admin/settings"):
        answer = await client.get(path)
        assert answer.status_code == 303 and "/auth/login" in answer.headers["Location"]
    await _signed_up(client, services, "moderator")
    for path in ("/admin/domains", "/admin/rules", "/admin/settings", "/admin/domains/export"):
        assert (await client.get(path)).status_code == 403, path
    token = await csrf_of(client, "/")
    status, _, _ = await post_form(
        client,
        "/admin/domains",
        {"csrf_token": token, "domain": "mod.example", "severity": "suspend"},
    )
    assert status == 403
    async with services.pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM domain_blocks WHERE domain = 'mod.example'")
            == 0
        )


async def test_domain_blocks_are_added_edited_imported_and_removed(
    client: Client, services: Services
) -> None:
    await _signed_up(client, services, "admin")
    token = await csrf_of(client, "/admin/domains")
    form = {"csrf_token": token, "domain": "web-block.example", "severity": "silence",
            "public_comment": "noisy", "reject_media": "on"}  # fmt: skip
    status, _, response = await post_form(client, "/admin/domains", form)
    assert status == 303 and response.headers["Location"] == "/admin/domains?saved=1"  # type: ignore[attr-defined]
    page = await (await client.get("/admin/domains?saved=1")).get_data(as_text=True)
    assert "web-block.example" in page and "noisy" in page and "Saved." in page
    # The same domain again, and a bad one: the page again, with the error, 4xx.
    status, text, _ = await post_form(client, "/admin/domains", form)
    assert status == 409 and "web-block.example" in text
    status, text, _ = await post_form(client, "/admin/domains", {**form, "domain": "not a domain"})
    assert status == 400 and 'aria-invalid="true"' in text and "not a domain" in text
    async with services.pool.acquire() as conn:
        block_id = await conn.fetchval(
            "SELECT id FROM domain_blocks WHERE domain = 'web-block.example'"
        )
    edit = await (await client.get(f"/admin/domains/{block_id}")).get_data(as_text=True)
    assert 'value="silence" checked' in edit
    status, _, _ = await post_form(
        client,
        f"/admin/domains/{block_id}",
        {"csrf_token": token, "severity": "suspend", "public_comment": "worse"},
    )
    assert status == 303
    status, text, _ = await post_form(
        client, f"/admin/domains/{block_id}", {"csrf_token": token, "severity": "ban"}
    )
    assert status == 400 and 'id="f-severity-error"' in text
    export = await client.get("/admin/domains/export")
    csv_text = await export.get_data(as_text=True)
    assert (
        export.mimetype == "text/csv" and "web-block.example,suspend,false,false,worse" in csv_text
    )
    status, _, _ = await post_form(
        client, f"/admin/domains/{block_id}/delete", {"csrf_token": token}
    )
    assert status == 303
    answer = await client.post(
        "/admin/domains/import",
        form={"csrf_token": token},
        files={"file": _upload("blocks.csv", csv_text.encode())},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert answer.status_code == 303, await answer.get_data(as_text=True)
    shown = await (await client.get(answer.headers["Location"])).get_data(as_text=True)
    assert "Imported:" in shown and "web-block.example" in shown
    bad = await client.post(
        "/admin/domains/import",
        form={"csrf_token": token},
        files={"file": _upload("bad.csv", b"#domain,#severity\nx.example,ban\n")},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert bad.status_code == 400 and "line 2" in await bad.get_data(as_text=True)
    async with services.pool.acquire() as conn:
        actions = await conn.fetch(
            "SELECT action FROM audit_log WHERE target = 'web-block.example' ORDER BY id"
        )
        await conn.execute("DELETE FROM domain_blocks WHERE domain = 'web-block.example'")
    assert [a[0] for a in actions] == [
        "domain_block.create",
        "domain_block.update",
        "domain_block.delete",
        "domain_block.create",
    ]


async def test_rules_and_settings_forms(
    client: Client, services: Services, restore_settings: None
) -> None:
    await _signed_up(client, services, "admin")
    token = await csrf_of(client, "/admin/rules")
    for text in ("First web rule.", "Second web rule."):
        status, _, _ = await post_form(client, "/admin/rules", {"csrf_token": token, "text": text})
        assert status == 303
    status, text, _ = await post_form(client, "/admin/rules", {"csrf_token": token, "text": " "})
    assert status == 400 and 'aria-invalid="true"' in text
    async with services.pool.acquire() as conn:
        ids = [
            r[0]
            for r in await conn.fetch(
                "SELECT id FROM instance_rules WHERE text LIKE '% web rule.' ORDER BY position"
            )
        ]
    status, _, _ = await post_form(
        client, f"/admin/rules/{ids[1]}/move", {"csrf_token": token, "direction": "up"}
    )
    assert status == 303
    page = await (await client.get("/admin/rules")).get_data(as_text=True)
    assert page.index("Second web rule.") < page.index("First web rule.")
    status, _, _ = await post_form(
        client, f"/admin/rules/{ids[0]}", {"csrf_token": token, "text": "First, edited."}
    )
    assert status == 303
    for rule_id in ids:
        status, _, _ = await post_form(
            client, f"/admin/rules/{rule_id}/delete", {"csrf_token": token}
        )
        assert status == 303

    settings = await (await client.get("/admin/settings")).get_data(as_text=True)
    assert 'name="registrations" value="open" checked' in settings
    form = {
        "csrf_token": token,
        "name": "Web Town",
        "description": "",
        "contact_email": "a@b.example",
        "registrations": "approval",
        "show_domain_blocks": "on",
    }
    status, _, _ = await post_form(client, "/admin/settings", form)
    assert status == 303
    about = await (await client.get("/about")).get_data(as_text=True)
    assert "About Web Town" in about and "Reviewed by a moderator" in about
    assert "Moderated servers" in about
    status, text, _ = await post_form(client, "/admin/settings", {**form, "contact_email": "x"})
    assert status == 400 and 'id="f-contact_email-error"' in text
    status, _, _ = await post_form(
        client, "/admin/settings", {**form, "reset_name": "on", "reset_registrations": "on"}
    )
    assert status == 303
    current = await instance_settings.current(services)
    assert current.name == services.config.instance.name and "name" not in current.overridden
