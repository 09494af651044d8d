"""Errors as pages for browsers, JSON for programs: one mapping (stgy/http/errors.py)."""

from __future__ import annotations

import asyncpg
from quart import Quart
from quart.typing import TestClientProtocol as Client
from redis.exceptions import ConnectionError as RedisConnectionError

from stgy.http.errors import RETRY_AFTER_SECONDS
from stgy.web.security import CONTENT_SECURITY_POLICY

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_unknown_paths_answer_a_page_to_browsers_and_json_to_programs(
    client: Client,
) -> None:
    page = await client.get("/no/such/page", headers={"Accept": BROWSER})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    body = await page.get_data(as_text=True)
    assert "<h1>Not found</h1>" in body and 'class="skip-link"' in body
    japanese = await client.get(
        "/no/such/page", headers={"Accept": BROWSER, "Accept-Language": "ja"}
    )
    assert 'lang="ja"' in await japanese.get_data(as_text=True)
    for accept in ("*/*", "application/json", "application/activity+json"):
        answer = await client.get("/no/such/page", headers={"Accept": accept})
        assert answer.status_code == 404 and answer.mimetype == "application/json", accept
        assert (await answer.get_json())["error"] == "not_found"
    # The API answers JSON even to a browser.
    api = await client.get("/api/no/such/thing", headers={"Accept": BROWSER})
    assert api.status_code == 404 and api.mimetype == "application/json"
    api_missing = await client.get("/api/posts/123", headers={"Accept": BROWSER})
    assert api_missing.mimetype == "application/json"


async def test_outages_answer_a_503_page_to_browsers(app: Quart, client: Client) -> None:
    errors = {
        "pg": asyncpg.CannotConnectNowError("the database system is starting up"),
        "redis": RedisConnectionError("Error 111 connecting"),
    }

    async def fail(name: str) -> str:
        raise errors[name]

    # Routes of their own for the test: the outage hits them as it would any page.
    app.add_url_rule("/test-outage/<name>", "test_outage", fail)
    app.add_url_rule("/api/test-outage/<name>", "test_api_outage", fail)
    for name in errors:
        page = await client.get(f"/test-outage/{name}", headers={"Accept": BROWSER})
        assert page.status_code == 503 and page.mimetype == "text/html", name
        assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "Briefly unavailable" in await page.get_data(as_text=True)
        api = await client.get(f"/api/test-outage/{name}", headers={"Accept": BROWSER})
        assert api.status_code == 503 and api.mimetype == "application/json", name
        assert (await api.get_json())["error"].endswith("_unavailable")
