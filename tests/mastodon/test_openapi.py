"""The Mastodon face's OpenAPI document: valid OpenAPI 3.1, every Mastodon route in it, and
live answers of a live instance valid against the schemas it documents."""

from __future__ import annotations

from typing import Any

import httpx
import requests
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from stgy.app import create_app
from stgy.config import load_config
from stgy.mastodon.openapi import ANSWERS
from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def _answer_problems(document: dict[str, Any], method: str, path: str, body: Any) -> list[str]:
    """What is wrong with `body` as the documented 200 answer of `method path`."""
    schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    checked = {**schema["schema"], "components": document["components"]}
    validator = Draft202012Validator(checked)
    return [f"{path}: {e.json_path}: {e.message}" for e in validator.iter_errors(body)]


def test_the_document_is_valid_and_covers_every_route(live_instance: LiveInstance) -> None:
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        answer = anonymous.get("/api/mastodon/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    documented = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert "get /api/v1/timelines/home" in documented
    assert "post /api/v1/statuses" in documented
    home = document["paths"]["/api/v1/timelines/home"]["get"]
    assert home["security"] == [{"oauth2": ["read:statuses"]}]
    streaming = document["paths"]["/api/v1/streaming"]["get"]["responses"]
    assert "101" in streaming and "200" not in streaming
    assert (
        "text/event-stream"
        in (document["paths"]["/api/v1/streaming/{name}"]["get"]["responses"]["200"]["content"])
    )
    assert home["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/STATUS"},
    }
    # Each answer named exists as a schema.
    for answer_name in ANSWERS.values():
        name = answer_name.strip("[]")
        if name.isupper() and name not in (
            "EMPTY",
            "NONE",
            "OBJECT",
            "EVENTS",
            "TEXT",
            "WEBSOCKET",
        ):
            assert name in document["components"]["schemas"], name


def test_live_answers_match_the_document(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        document = anonymous.get("/api/mastodon/openapi.json").json()
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    other, other_api = second_api(live_instance, session, http)
    api.account_follow(other.id)
    theirs = other_api.status_post(f"hello @{person.handle} #openapi")
    mine = api.status_post("a reply", in_reply_to_id=theirs["id"])
    other_api.status_favourite(mine["id"])
    api.status_post(f"@{other.handle} between us", visibility="direct")
    eventually(lambda: raw.get("/api/v1/notifications").json(), "a notification")
    eventually(lambda: raw.get("/api/v1/timelines/home").json(), "the home timeline")

    ids, their_id = f"id[]={other.id}", theirs["id"]
    familiar = "/api/v1/accounts/familiar_followers"
    calls = [
        ("get", "/api/v1/accounts/verify_credentials", "/api/v1/accounts/verify_credentials"),
        ("get", "/api/v1/accounts/{account_id}", f"/api/v1/accounts/{other.id}"),
        ("get", "/api/v1/accounts/{account_id}/statuses", f"/api/v1/accounts/{other.id}/statuses"),
        ("get", "/api/v1/accounts/relationships", f"/api/v1/accounts/relationships?{ids}"),
        ("get", "/api/v1/instance", "/api/v1/instance"),
        ("get", "/api/v2/instance", "/api/v2/instance"),
        ("get", "/api/v1/instance/rules", "/api/v1/instance/rules"),
        ("get", "/api/v1/preferences", "/api/v1/preferences"),
        ("get", "/api/v1/apps/verify_credentials", "/api/v1/apps/verify_credentials"),
        ("get", "/api/v1/statuses/{status_id}", f"/api/v1/statuses/{mine['id']}"),
        ("get", "/api/v1/statuses/{status_id}/context", f"/api/v1/statuses/{mine['id']}/context"),
        ("get", "/api/v1/statuses/{status_id}/source", f"/api/v1/statuses/{mine['id']}/source"),
        ("get", "/api/v1/timelines/home", "/api/v1/timelines/home"),
        ("get", "/api/v1/timelines/public", "/api/v1/timelines/public"),
        ("get", "/api/v1/timelines/tag/{hashtag}", "/api/v1/timelines/tag/openapi"),
        ("get", "/api/v1/notifications", "/api/v1/notifications"),
        ("get", "/api/v2/notifications", "/api/v2/notifications"),
        ("get", "/api/v1/notifications/unread_count", "/api/v1/notifications/unread_count"),
        ("get", "/api/v1/conversations", "/api/v1/conversations"),
        ("get", "/api/v2/search", "/api/v2/search?q=openapi"),
        ("get", "/api/v1/tags/{name}", "/api/v1/tags/openapi"),
        ("get", "/api/v1/followed_tags", "/api/v1/followed_tags"),
        ("get", "/api/v1/markers", "/api/v1/markers?timeline[]=home"),
        ("get", "/api/v1/accounts/familiar_followers", f"{familiar}?{ids}"),
        ("post", "/api/v1/statuses/{status_id}/bookmark", f"/api/v1/statuses/{their_id}/bookmark"),
        ("get", "/api/v1/bookmarks", "/api/v1/bookmarks"),
    ]
    problems: list[str] = []
    for method, template, url in calls:
        answer = raw.request(method.upper(), url)
        assert answer.status_code == 200, (url, answer.text)
        problems += _answer_problems(document, method, template, answer.json())
    assert problems == [], "\n".join(problems)
    # And a wrong answer is caught: the check is not vacuous.
    status = raw.get(f"/api/v1/statuses/{mine['id']}").json()
    del status["content"]
    assert _answer_problems(document, "get", "/api/v1/statuses/{status_id}", status)
    raw.close()


def test_every_mastodon_route_names_its_answer() -> None:
    """A route added without saying what it answers (ANSWERS) fails here."""
    app = create_app(load_config(environ={"DATABASE_URL": "postgresql://127.0.0.1:5432/x"}))
    endpoints = {
        rule.endpoint.removeprefix("mastodon.")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("mastodon.")
    }
    endpoints.discard("mastodon_openapi.openapi_json")
    assert sorted(endpoints - set(ANSWERS)) == []
    assert sorted(set(ANSWERS) - endpoints) == []
