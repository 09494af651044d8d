"""Accounts, relationships and notifications through Mastodon.py on a live instance, with
the raw JSON checked against Mastodon's entities."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import requests
from mastodon import MastodonNotFoundError

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.entities import (
    ACCOUNT,
    CREDENTIAL_ACCOUNT,
    NOTIFICATION,
    RELATIONSHIP,
    STATUS,
    assert_entities,
    assert_entity,
)
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def test_accounts_relationships_and_notifications(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    other, other_api = second_api(live_instance, session, http)
    other_raw = bearer(live_instance, other_api)

    found = api.account_lookup(other.handle)
    assert str(found["id"]) == other.id
    assert_entity(raw.get("/api/v1/accounts/lookup", params={"acct": other.handle}).json(), ACCOUNT)
    assert_entity(raw.get(f"/api/v1/accounts/{other.id}").json(), ACCOUNT)
    assert api.account(other.id)["acct"] == other.handle
    with pytest.raises(MastodonNotFoundError):
        api.account_lookup("nobody_here_at_all")
    searched = api.account_search(other.handle)
    assert [a["acct"] for a in searched] == [other.handle]

    # Follow: a Relationship, the follower counts, the follower lists.
    relation = raw.post(f"/api/v1/accounts/{other.id}/follow", data={"reblogs": "true"}).json()
    assert_entity(relation, RELATIONSHIP)
    assert relation["following"] is True and relation["requested"] is False
    assert [a["acct"] for a in api.account_followers(other.id)] == [person.handle]
    assert [a["acct"] for a in api.account_following(person.id)] == [other.handle]
    rels = raw.get("/api/v1/accounts/relationships", params={"id[]": [other.id]}).json()
    assert_entities(rels, RELATIONSHIP)
    assert api.account_relationships([other.id])[0]["following"] is True

    # The other person's statuses, as their profile lists them.
    mention = other_api.status_post(f"hi @{person.handle}")
    other_api.status_post("a second one")
    statuses = raw.get(f"/api/v1/accounts/{other.id}/statuses").json()
    assert_entities(statuses, STATUS)
    assert len(statuses) == 2
    assert api.account_statuses(other.id, pinned=True) == []
    assert len(api.account_statuses(other.id, limit=1)) == 1

    # Notifications: the mention, the follow; typed; one; dismissed; cleared.
    other_api.status_favourite(api.status_post("like me")["id"])
    listed = eventually(
        lambda: len(other_api.notifications()) >= 1 and other_api.notifications(), "notified"
    )
    assert {n["type"] for n in listed} >= {"follow"}
    notes = eventually(
        lambda: len(api.notifications()) >= 2 and api.notifications(), "mention and like"
    )
    types = {n["type"] for n in notes}
    assert {"mention", "favourite"} <= types, types
    raw_notes = raw.get("/api/v1/notifications").json()
    assert_entities(raw_notes, NOTIFICATION)
    mentions = api.notifications(types=["mention"])
    assert [str(n["status"]["id"]) for n in mentions] == [str(mention["id"])]
    assert all(n["type"] != "mention" for n in api.notifications(exclude_types=["mention"]))
    one = api.notifications(id=mentions[0]["id"])
    assert one["type"] == "mention"
    api.notifications_dismiss(mentions[0]["id"])
    assert api.notifications(types=["mention"]) == []
    api.notifications_clear()
    assert api.notifications() == []

    # Block and mute answer Relationships; the lists show them.
    assert api.account_mute(other.id)["muting"] is True
    assert [a["acct"] for a in api.mutes()] == [other.handle]
    assert api.account_unmute(other.id)["muting"] is False
    assert api.account_block(other.id)["blocking"] is True
    assert [a["acct"] for a in api.blocks()] == [other.handle]
    assert api.account_unblock(other.id)["blocking"] is False
    assert api.account_unfollow(other.id)["following"] is False

    # Follow requests of a locked account.
    other_raw.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert api.account_follow(other.id)["requested"] is True
    assert [a["acct"] for a in other_api.follow_requests()] == [person.handle]
    assert other_api.follow_request_authorize(person.id)["followed_by"] is True

    # Bookmarks.
    kept = api.status_post("keep me")
    api.status_bookmark(kept["id"])
    assert [s["id"] for s in api.bookmarks()] == [kept["id"]]

    # update_credentials: a multipart form with profile fields.
    updated = raw.patch(
        "/api/v1/accounts/update_credentials",
        files={
            "display_name": (None, "New Name"),
            "note": (None, "about **me**"),
            "bot": (None, "true"),
            "fields_attributes[0][name]": (None, "Site"),
            "fields_attributes[0][value]": (None, "https://example.com"),
        },
    )
    assert updated.status_code == 200, updated.text
    assert_entity(updated.json(), CREDENTIAL_ACCOUNT)
    assert updated.json()["display_name"] == "New Name" and updated.json()["bot"] is True
    assert updated.json()["source"]["fields"][0]["name"] == "Site"
    again = api.account_update_credentials(display_name="Via Mastodon.py")
    assert again["display_name"] == "Via Mastodon.py"
    too_long = raw.patch("/api/v1/accounts/update_credentials", data={"display_name": "x" * 500})
    assert too_long.status_code == 422 and "display_name" in too_long.json()["error"]
    assert raw.get("/api/v1/accounts/relationships", params={"id[]": "x"}).status_code == 404
    raw.close()
    other_raw.close()


def test_account_endpoints_answer_bad_input_with_json(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    cases = [
        ("GET", "/api/v1/accounts/lookup", {}, 422),
        ("GET", "/api/v1/accounts/99999999999", {}, 404),
        ("GET", "/api/v1/accounts/abc/statuses", {}, 404),
        ("GET", f"/api/v1/accounts/{person.id}/statuses", {"max_id": "-1"}, 422),
        ("GET", f"/api/v1/accounts/{person.id}/statuses", {"only_media": "sometimes"}, 422),
        ("POST", "/api/v1/accounts/99999999999/follow", {}, 404),
        ("POST", f"/api/v1/accounts/{person.id}/follow", {}, 422),
        ("POST", "/api/v1/accounts/1x/block", {}, 404),
        ("PATCH", "/api/v1/accounts/update_credentials", {"locked": "perhaps"}, 422),
        ("GET", "/api/v1/notifications/123", {}, 404),
        ("POST", "/api/v1/notifications/123/dismiss", {}, 404),
        ("GET", "/api/v1/notifications", {"limit": "many"}, 422),
        ("POST", "/api/v1/statuses", {"status": "x", "scheduled_at": "2030-01-01"}, 422),
        ("POST", "/api/v1/statuses/1/favourite", {}, 404),
    ]
    for method, path, params, status in cases:
        if method == "GET":
            answer = raw.request(method, path, params=params)
        else:
            answer = raw.request(method, path, data=params)
        assert answer.status_code == status, (method, path, params, answer.text)
        assert isinstance(answer.json()["error"], str), answer.text
    assert raw.get("/api/v1/accounts/99999999999").json() == {"error": "Record not found"}
    # Scopes: a read-only token may not post or follow.
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        assert anonymous.post("/api/v1/statuses", data={"status": "x"}).status_code == 401
        assert anonymous.get("/api/v1/notifications").status_code == 401
    raw.close()


def test_a_moderation_warning_is_a_mastodon_notification(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    warned = subprocess.run(
        [sys.executable, "-m", "stgy", "accounts", "warn", person.handle,
         "--comment", "Please add image descriptions."],
        env=live_instance.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert warned.returncode == 0, warned.stderr
    with bearer(live_instance, api) as raw:
        listed = raw.get("/api/v1/notifications", params={"types[]": ["moderation_warning"]})
    (notification,) = listed.json()
    assert_entity(notification, NOTIFICATION)
    assert notification["type"] == "moderation_warning" and notification["status"] is None
    warning = notification["moderation_warning"]
    assert warning["text"] == "Please add image descriptions."
    assert warning["action"] == "none" and warning["status_ids"] == []
    assert warning["target_account"]["id"] == person.id
    assert [n["type"] for n in api.notifications(types=["moderation_warning"])] == [
        "moderation_warning"
    ]
