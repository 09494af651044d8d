"""The start-up endpoints Mastodon apps call, their entities' shapes, CORS, errors as
Mastodon sends them, and the pagination helper the later parts use."""

from __future__ import annotations

import httpx
from quart import Quart

from stgy.mastodon.pagination import link_header, page_request
from tests.conftest import LiveInstance
from tests.mastodon.conftest import authorise, bearer, register_app, token_for
from tests.mastodon.entities import (
    ERROR,
    INSTANCE,
    MARKER,
    PREFERENCES,
    V1_INSTANCE,
    assert_entity,
    entity_problems,
)


def user_token(http: httpx.Client, logged_in: httpx.Client, scopes: str = "read write") -> str:
    app = register_app(http, scopes=scopes)
    answer = token_for(http, app, authorise(logged_in, app)["code"][0])
    token: str = answer.json()["access_token"]
    return token


def test_instance_v1_and_v2_have_every_documented_field(
    http: httpx.Client, live_instance: LiveInstance
) -> None:
    for path in ("/api/v2/instance", "/api/v2/instance/"):
        v2 = http.get(path)
        assert v2.status_code == 200 and v2.headers["content-type"] == "application/json"
        assert_entity(v2.json(), INSTANCE)
    body = v2.json()
    cfg = live_instance.config
    assert body["domain"] == cfg.instance.domain
    assert body["configuration"]["urls"]["streaming"] == f"ws://{cfg.instance.domain}"
    media = body["configuration"]["media_attachments"]
    assert media["image_size_limit"] == cfg.limits.media_bytes
    assert media["image_matrix_limit"] == cfg.limits.media_pixels
    assert body["configuration"]["statuses"]["max_characters"] == cfg.limits.post_length
    assert body["api_versions"]["mastodon"] >= 2
    for path in ("/api/v1/instance", "/api/v1/instance/"):
        v1 = http.get(path)
        assert v1.status_code == 200
        assert_entity(v1.json(), V1_INSTANCE)
    assert v1.json()["version"] == body["version"]


def test_the_entity_check_can_fail() -> None:
    problems = entity_problems(
        {"error": 1, "extra": True}, [*ERROR, ("error_description", "str", False, False)]
    )
    assert problems == ["$.error: 1 is not a str", "$.error_description: missing"]


def test_preferences_markers_and_empty_collections(
    http: httpx.Client, logged_in: httpx.Client
) -> None:
    token = user_token(http, logged_in, "read write push")
    auth = bearer(token)
    prefs = http.get("/api/v1/preferences", headers=auth)
    assert_entity(prefs.json(), PREFERENCES)
    assert prefs.json()["posting:default:language"] is None

    saved = http.post(
        "/api/v1/markers",
        data={"home[last_read_id]": "111", "notifications[last_read_id]": "7"},
        headers=auth,
    )
    assert saved.status_code == 200, saved.text
    assert_entity(saved.json()["home"], MARKER)
    found = http.get("/api/v1/markers?timeline[]=home", headers=auth).json()
    assert list(found) == ["home"] and found["home"]["last_read_id"] == "111"
    bad = http.post("/api/v1/markers", json={"home": {"last_read_id": ""}}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"].startswith("Validation failed")
    nothing = http.post("/api/v1/markers", json={}, headers=auth)
    assert nothing.status_code == 422

    for path in (
        "/api/v1/filters",
        "/api/v2/filters",
        "/api/v1/lists",
        "/api/v1/announcements",
        "/api/v1/followed_tags",
        "/api/v1/custom_emojis",
        "/api/v1/trends",
        "/api/v1/trends/tags",
        "/api/v1/trends/statuses",
        "/api/v1/trends/links",
    ):
        answer = http.get(path, headers=auth)
        assert answer.status_code == 200 and answer.json() == [], path
    push = http.get("/api/v1/push/subscription", headers=auth)
    assert push.status_code == 404 and push.json() == {"error": "Record not found"}


def test_errors_are_json_as_mastodon_sends_them(http: httpx.Client) -> None:
    missing = http.get("/api/v1/accounts/verify_credentials")
    assert missing.status_code == 401 and missing.json() == {"error": "The access token is invalid"}
    forged = http.get("/api/v1/lists", headers=bearer("forged"))
    assert forged.status_code == 401 and forged.headers["WWW-Authenticate"].startswith("Bearer")
    browserish = http.get("/api/v1/preferences", headers={"Accept": "text/html"})
    assert browserish.headers["content-type"] == "application/json"
    limit = http.get("/api/v1/followed_tags?limit=lots", headers=bearer("forged"))
    assert limit.status_code == 401  # the token is checked first


def test_cors_for_apis_and_oauth_but_not_pages(http: httpx.Client) -> None:
    preflight = http.options(
        "/api/v1/apps",
        headers={
            "Origin": "https://client.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    for path in ("/api/v1/instance", "/.well-known/oauth-authorization-server"):
        answer = http.get(path, headers={"Origin": "https://client.example"})
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "Link" in answer.headers["Access-Control-Expose-Headers"]
    token = http.post("/oauth/token", data={}, headers={"Origin": "https://client.example"})
    assert token.headers["Access-Control-Allow-Origin"] == "*"
    page = http.get("/oauth/authorize", headers={"Origin": "https://client.example"})
    assert "Access-Control-Allow-Origin" not in page.headers
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_pagination_reads_ids_and_links_absolutely(app: Quart) -> None:
    async with app.test_request_context("/api/v1/followed_tags?limit=2&x=y&max_id=900"):
        page = page_request({"limit": "2", "max_id": "900"}, maximum=40)
        assert (page.max_id, page.since_id, page.min_id, page.limit) == (900, None, None, 2)
        link = link_header(page, [850, 800])
        base = app.extensions["stgy.config"].instance.base_url
        assert link == (
            f'<{base}/api/v1/followed_tags?limit=2&x=y&max_id=800>; rel="next", '
            f'<{base}/api/v1/followed_tags?limit=2&x=y&min_id=850>; rel="prev"'
        )
        assert link_header(page, [850]) == (
            f'<{base}/api/v1/followed_tags?limit=2&x=y&min_id=850>; rel="prev"'
        )
        assert link_header(page, []) is None
    assert page_request({"limit": "500"}, maximum=40).limit == 40
    assert page_request({"limit": "0"}).limit == 1
    for bad in ({"max_id": "abc"}, {"since_id": "9" * 30}, {"limit": "x"}):
        try:
            page_request(bad)
        except Exception as exc:  # noqa: BLE001 - the test names the class below
            assert type(exc).__name__ == "Invalid"
        else:
            raise AssertionError(f"{bad} was accepted")
