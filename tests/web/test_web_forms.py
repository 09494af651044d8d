"""The web face in process: forms, sessions, CSRF, headers, languages, sign-up modes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.config import load_config
from stgy.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import config_env, make_user, serving, unique_handle

PASSWORD = "a long web password 7"
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def csrf_of(client: Client, path: str = "/auth/login") -> str:
    """Open a page as a browser would, and read the CSRF token it hands out."""
    response = await client.get(path)
    assert response.status_code == 200
    found = _TOKEN.search(await response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


async def post_form(
    client: Client, path: str, form: dict[str, str], **headers: str
) -> tuple[int, str, object]:
    response = await client.post(
        path, form=form, headers={"Sec-Fetch-Site": "same-origin", **headers}
    )
    return response.status_code, await response.get_data(as_text=True), response


async def sign_up(client: Client, handle: str, **extra: str) -> tuple[int, str, object]:
    token = await csrf_of(client, "/auth/signup")
    form = {
        "csrf_token": token,
        "handle": handle,
        "email": f"{handle}@example.com",
        "password": PASSWORD,
        **extra,
    }
    return await post_form(client, "/auth/signup", form)


async def test_pages_are_html_with_the_strict_policy(client: Client) -> None:
    for path in ("/", "/about", "/auth/login", "/auth/signup", "/auth/signup/pending"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        text = await response.get_data(as_text=True)
        assert '<html lang="en">' in text and 'href="#main"' in text
        assert "<script>" not in text and "style=" not in text
    # The API and the health check keep their own answers, without the web's policy.
    for path in ("/healthz", "/api/timelines/public"):
        response = await client.get(path)
        assert "Content-Security-Policy" not in response.headers, path


async def test_pages_are_not_in_the_api_description(client: Client) -> None:
    paths = (await (await client.get("/api/openapi.json")).get_json())["paths"]
    assert not [path for path in paths if path.startswith(("/auth", "/static", "/about"))]
    assert "/" not in paths and "/api/auth/login" in paths


async def test_csrf_refused_without_or_with_a_wrong_token(client: Client) -> None:
    token = await csrf_of(client)
    form = {"login": "nobody", "password": PASSWORD}
    for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-2] + "xx"}):
        status, text, _ = await post_form(client, "/auth/login", {**form, **sent})
        assert status == 403
        assert "This form has expired or was not sent from this site" in text
    # htmx sends the token as a header: that passes (the login itself then fails).
    status, text, _ = await post_form(
        client, "/auth/login", form, **{"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert status == 401 and "Wrong user name, email or password." in text
    assert "<html" not in text  # the form alone, swapped in place


async def test_cross_site_posts_are_refused_even_with_a_token(client: Client) -> None:
    token = await csrf_of(client)
    form = {"csrf_token": token, "login": "nobody", "password": PASSWORD}
    refused = [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ]
    for headers in refused:
        response = await client.post("/auth/login", form=form, headers=headers)
        assert response.status_code == 403, headers
    # A same-origin Origin passes the origin check (and the login fails on its merits).
    response = await client.post(
        "/auth/login", form=form, headers={"Origin": "http://localhost:8000"}
    )
    assert response.status_code == 401


async def test_htmx_csrf_failure_goes_to_the_alert_area(client: Client) -> None:
    await csrf_of(client)
    status, text, response = await post_form(
        client, "/auth/login", {"login": "x", "password": "y"}, **{"HX-Request": "true"}
    )
    assert status == 403
    assert response.headers["HX-Retarget"] == "#flash"  # type: ignore[attr-defined]
    assert "<html" not in text and "Reload the page" in text


async def test_signup_logs_in_and_logout_revokes_the_session(client: Client) -> None:
    handle = unique_handle("web")
    status, _, response = await sign_up(client, handle, display_name="Web Person")
    assert status == 303 and response.headers["Location"] == "/"  # type: ignore[attr-defined]
    cookies = response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    session_cookie = next(c for c in cookies if c.startswith("stgy_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Path=/" in session_cookie and "Secure" not in session_cookie  # http on localhost
    home = await (await client.get("/")).get_data(as_text=True)
    assert f"@{handle}@localhost:8000" in home and "Web Person" in home
    value = session_cookie.split(";", 1)[0].split("=", 1)[1]

    token = await csrf_of(client, "/")
    status, _, response = await post_form(client, "/auth/logout", {"csrf_token": token})
    assert status == 303
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Create account" in page and handle not in page
    # The old cookie is dead for good: the session row was revoked.
    client.set_cookie("localhost", "stgy_session", value)  # type: ignore[attr-defined]
    page = await (await client.get("/")).get_data(as_text=True)
    assert handle not in page

    token = await csrf_of(client)
    status, _, _ = await post_form(
        client, "/auth/login", {"csrf_token": token, "login": f"@{handle}", "password": PASSWORD}
    )
    assert status == 303
    assert handle in await (await client.get("/")).get_data(as_text=True)


async def test_forged_session_cookie_is_ignored(client: Client) -> None:
    client.set_cookie("localhost", "stgy_session", "1.1.AAAA")  # type: ignore[attr-defined]
    response = await client.get("/")
    assert response.status_code == 200
    assert "Create account" in await response.get_data(as_text=True)


async def test_signup_errors_are_shown_next_to_their_fields(client: Client) -> None:
    taken = await make_user(client)
    status, text, _ = await sign_up(client, taken.handle)
    assert status == 409
    assert 'id="f-handle-error"' in text and "This is already taken." in text
    assert 'aria-invalid="true"' in text
    status, text, _ = await sign_up(client, unique_handle("web"), password="short")
    assert status == 400 and "Use at least 8 characters." in text
    assert PASSWORD not in text and 'value="short"' not in text
    status, text, _ = await sign_up(client, "not a handle!")
    assert status == 400 and "Use 1 to 30 letters" in text
    status, text, _ = await sign_up(client, "")
    assert status == 400 and "Fill this in." in text


async def test_wrong_login_is_a_401_with_a_message(client: Client) -> None:
    user = await make_user(client)
    token = await csrf_of(client)
    status, text, _ = await post_form(
        client, "/auth/login", {"csrf_token": token, "login": user.handle, "password": "nope"}
    )
    assert status == 401 and "Wrong user name, email or password." in text
    assert f'value="{user.handle}"' in text  # what was typed stays, but the password


async def test_japanese_from_accept_language(client: Client) -> None:
    response = await client.get("/auth/login", headers={"Accept-Language": "ja-JP,ja;q=0.9"})
    text = await response.get_data(as_text=True)
    assert '<html lang="ja">' in text
    assert "ログイン" in text and "パスワード" in text
    response = await client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="en">' in await response.get_data(as_text=True)


@pytest.fixture
async def approval_app(database_url: str, tmp_root: Path) -> AsyncIterator[Quart]:
    config = load_config(
        environ=config_env(database_url, tmp_root, STGY_INSTANCE_REGISTRATIONS="approval")
    )
    async with serving(config) as application:
        yield application


@pytest.fixture
async def closed_app(database_url: str, tmp_root: Path) -> AsyncIterator[Quart]:
    config = load_config(
        environ=config_env(database_url, tmp_root, STGY_INSTANCE_REGISTRATIONS="closed")
    )
    async with serving(config) as application:
        yield application


async def test_approval_signup_asks_a_reason_and_waits(approval_app: Quart) -> None:
    client = approval_app.test_client()
    page = await (await client.get("/auth/signup")).get_data(as_text=True)
    assert 'name="reason"' in page and "A moderator reviews each new account" in page
    handle = unique_handle("wait")
    status, _, response = await sign_up(client, handle, reason="I write haiku.")
    assert status == 303
    assert response.headers["Location"] == "/auth/signup/pending"  # type: ignore[attr-defined]
    services = approval_app.extensions["stgy.services"]
    async with services.pool.acquire() as conn:
        reason = await conn.fetchval(
            "SELECT u.registration_reason FROM users u JOIN accounts a ON a.id = u.account_id"
            " WHERE a.handle = $1",
            handle,
        )
    assert reason == "I write haiku."
    token = await csrf_of(client)
    status, text, _ = await post_form(
        client, "/auth/login", {"csrf_token": token, "login": handle, "password": PASSWORD}
    )
    assert status == 403 and "waiting for a moderator" in text


async def test_closed_signup_says_so(closed_app: Quart) -> None:
    client = closed_app.test_client()
    page = await (await client.get("/auth/signup")).get_data(as_text=True)
    assert "does not accept new accounts" in page and 'name="handle"' not in page
    index = await (await client.get("/")).get_data(as_text=True)
    assert 'href="/auth/signup"' not in index
    status, text, _ = await sign_up(client, unique_handle("no"))
    assert status == 403 and "does not accept new accounts" in text


async def test_form_writes_count_against_the_write_limit(database_url: str, tmp_root: Path) -> None:
    environ = config_env(
        database_url, tmp_root, queue="web-limit", STGY_LIMITS_RATE_LIMIT_REQUESTS_PER_MINUTE="2"
    )
    async with serving(load_config(environ=environ)) as application:
        client = application.test_client()
        token = await csrf_of(client)
        form = {"csrf_token": token, "login": "nobody", "password": PASSWORD}
        statuses = [(await post_form(client, "/auth/login", form))[0] for _ in range(3)]
        assert statuses == [401, 401, 429]
        _, text, response = await post_form(client, "/auth/login", form)
        assert "Too many requests" in text and "<html" in text
        assert int(response.headers["Retry-After"]) > 0  # type: ignore[attr-defined]


async def test_pages_work_without_the_npm_files(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stgy.web import assets

    monkeypatch.setattr(assets, "NODE_MODULES", tmp_path)
    text = await (await client.get("/auth/signup")).get_data(as_text=True)
    assert "htmx" not in text.replace("htmx-config", "") and 'name="handle"' in text
    assert "/static/stgy.js?v=" in text
    response = await client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 404
