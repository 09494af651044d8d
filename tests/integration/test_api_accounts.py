"""Accounts and auth through the HTTP API."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.app import create_app
from stgy.config import Config
from tests.conftest import make_user, unique_handle


async def register(client: Client, **overrides: object) -> tuple[int, dict[str, object]]:
    handle = overrides.get("handle", unique_handle())
    body = {
        "handle": handle,
        "display_name": "Someone",
        "password": "a fine passphrase",
        "email": f"{handle}@example.com",
        **overrides,
    }
    response = await client.post("/api/accounts", json=body)
    return response.status_code, await response.get_json()


async def test_register_login_me_refresh_logout(client: Client) -> None:
    handle = unique_handle("Alice")
    status, account = await register(client, handle=handle)
    assert status == 201
    assert account["handle"] == handle and account["acct"] == handle
    assert account["local"] is True and account["pending"] is False
    assert isinstance(account["id"], str) and account["id"].isdigit()
    assert account["ap_id"] == f"http://localhost:8000/users/{handle}"

    for login in (handle, handle.upper(), f"{handle}@example.com"):
        response = await client.post(
            "/api/auth/login", json={"handle": login, "password": "a fine passphrase"}
        )
        assert response.status_code == 200, (login, await response.get_json())
    body = await response.get_json()
    assert body["account"]["id"] == account["id"] and body["token_type"] == "Bearer"
    auth = {"Authorization": f"Bearer {body['token']}"}

    me = await client.get("/api/accounts/me", headers=auth)
    assert me.status_code == 200 and (await me.get_json())["id"] == account["id"]

    refreshed = await client.post("/api/auth/refresh", headers=auth)
    assert refreshed.status_code == 200
    new_auth = {"Authorization": f"Bearer {(await refreshed.get_json())['token']}"}

    assert (await client.post("/api/auth/logout", headers=new_auth)).status_code == 204
    # The session is gone, so every token of it stops working.
    for headers in (auth, new_auth):
        response = await client.get("/api/accounts/me", headers=headers)
        assert response.status_code == 401
        assert (await response.get_json())["error"] == "unauthorized"


async def test_wrong_credentials_same_answer(client: Client) -> None:
    user = await make_user(client)
    wrong = await client.post("/api/auth/login", json={"handle": user.handle, "password": "x" * 9})
    unknown = await client.post("/api/auth/login", json={"handle": "nobody_here", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert await wrong.get_json() == await unknown.get_json()


async def test_login_is_rate_limited_per_account(client: Client, config: Config) -> None:
    user = await make_user(client)
    limit = config.limits.rate_limit_logins_per_minute
    statuses = []
    for i in range(limit + 1):
        # Each from its own address: the per-account counter is what stops them.
        response = await client.post(
            "/api/auth/login",
            json={"handle": user.handle, "password": "wrong password"},
            scope_base={"client": (f"10.9.0.{i}", 4000)},
        )
        statuses.append(response.status_code)
    assert statuses[:limit] == [401] * limit and statuses[limit] == 429
    assert (await response.get_json())["detail"]["retry_after"] > 0
    # Even the right password waits now.
    right = await client.post(
        "/api/auth/login", json={"handle": user.handle, "password": user.password}
    )
    assert right.status_code == 429


async def test_login_is_rate_limited_per_address(client: Client, config: Config) -> None:
    limit = config.limits.rate_limit_logins_per_minute
    where = {"client": ("10.8.0.1", 4000)}
    for i in range(limit):
        response = await client.post(
            "/api/auth/login",
            json={"handle": f"nobody_{i}", "password": "wrong password"},
            scope_base=where,
        )
        assert response.status_code == 401
    user = await make_user(client)
    blocked = await client.post(
        "/api/auth/login",
        json={"handle": user.handle, "password": user.password},
        scope_base=where,
    )
    assert blocked.status_code == 429


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"handle": "bad handle"}, "handle"),
        ({"handle": "x" * 31}, "handle"),
        ({"handle": ""}, "handle"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password1"}, "password"),
        ({"password": 12345678}, "password"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_registration_names_the_field(
    client: Client, overrides: dict[str, object], field: str
) -> None:
    status, body = await register(client, **overrides)
    assert status == 400
    assert body["detail"]["field"] == field


async def test_missing_field_and_duplicates(client: Client) -> None:
    response = await client.post("/api/accounts", json={"handle": unique_handle()})
    assert response.status_code == 400
    assert (await response.get_json())["detail"] == {"field": "password", "reason": "required"}

    handle = unique_handle()
    assert (await register(client, handle=handle))[0] == 201
    status, body = await register(client, handle=handle.upper())
    assert status == 409 and body["detail"]["field"] == "handle"
    status, body = await register(client, handle=unique_handle(), email=f"{handle}@EXAMPLE.com")
    assert status == 409 and body["detail"]["field"] == "email"


async def test_registration_modes(config: Config) -> None:
    for mode, expected in (("closed", 403), ("approval", 201)):
        app: Quart = create_app(config.replace("instance", registrations=mode))
        async with app.test_app():
            client = app.test_client()
            status, body = await register(client, password="another fine phrase")
            assert status == expected
            if mode == "approval":
                assert body["pending"] is True
                login = await client.post(
                    "/api/auth/login",
                    json={"handle": body["handle"], "password": "another fine phrase"},
                )
                assert login.status_code == 403
                assert "approval" in (await login.get_json())["detail"]


async def test_get_account_by_id_and_handle(client: Client) -> None:
    user = await make_user(client)
    by_id = await client.get(f"/api/accounts/{user.id}")
    by_handle = await client.get(f"/api/accounts/@{user.handle.upper()}")
    assert by_id.status_code == by_handle.status_code == 200
    body = await by_id.get_json()
    assert body == await by_handle.get_json()
    assert body["posts_count"] == body["followers_count"] == body["following_count"] == 0
    for missing in ("123", "0", "-1", "abc", "99999999999999999999", "@nobody_at_all"):
        response = await client.get(f"/api/accounts/{missing}")
        assert response.status_code == 404, missing


async def test_profile_update_and_handle_change(client: Client) -> None:
    user = await make_user(client)
    new_handle = unique_handle("renamed")
    response = await client.patch(
        "/api/accounts/me",
        json={
            "display_name": "Ms Example",
            "bio": "I *like* [links](https://example.com) <script>alert(1)</script>",
            "handle": new_handle,
            "locked": True,
            "fields": [{"name": "site", "value": "example.com"}],
        },
        headers=user.auth,
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["handle"] == new_handle and body["locked"] is True
    assert "<em>like</em>" in body["bio_html"] and "<script" not in body["bio_html"]
    assert 'rel="nofollow noopener noreferrer ugc"' in body["bio_html"]
    # The old handle still finds the account, and nobody else can take it.
    old = await client.get(f"/api/accounts/@{user.handle}")
    assert (await old.get_json())["id"] == user.id
    status, _ = await register(client, handle=user.handle)
    assert status == 409

    bad = await client.patch("/api/accounts/me", json={"locked": "yes"}, headers=user.auth)
    assert bad.status_code == 400 and (await bad.get_json())["detail"]["field"] == "locked"
    anonymous = await client.patch("/api/accounts/me", json={"locked": True})
    assert anonymous.status_code == 401


async def test_delete_account_needs_password(client: Client) -> None:
    user = await make_user(client)
    wrong = await client.delete(
        "/api/accounts/me", json={"password": "not it at all"}, headers=user.auth
    )
    assert wrong.status_code == 401
    ok = await client.delete(
        "/api/accounts/me", json={"password": user.password}, headers=user.auth
    )
    assert ok.status_code == 204
    assert (await client.get(f"/api/accounts/{user.id}")).status_code == 404
    assert (await client.get("/api/accounts/me", headers=user.auth)).status_code == 401
    status, _ = await register(client, handle=user.handle)
    assert status == 409


async def test_openapi_documents_the_routes(client: Client) -> None:
    spec = await (await client.get("/api/openapi.json")).get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/accounts" in spec["paths"]
    post = spec["paths"]["/api/accounts"]["post"]
    assert "requestBody" in post and "201" in post["responses"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bio": "a\u0000b"}, "bio"),
        ({"display_name": "\ud800"}, "display_name"),
        ({"fields": [{"name": "x\u0000", "value": "y"}]}, "fields.0.name"),
    ],
)
async def test_text_postgresql_cannot_store_is_400(
    client: Client, body: dict[str, object], field: str
) -> None:
    user = await make_user(client)
    response = await client.patch("/api/accounts/me", json=body, headers=user.auth)
    assert response.status_code == 400
    assert (await response.get_json())["detail"]["field"] == field


async def test_nul_in_login_is_400_not_500(client: Client) -> None:
    response = await client.post("/api/auth/login", json={"handle": "a\u0000", "password": "x"})
    assert response.status_code == 400
