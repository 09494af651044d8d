"""Grouped notifications (Mastodon 4.3, /api/v2/notifications) and the unread counts, through
Mastodon.py on a live instance: likes of one status gather in one group, a mention stays
alone, `grouped_types[]` turns grouping off per type, a group's accounts, dismissing it."""

from __future__ import annotations

import httpx
import requests

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.entities import GROUPED_NOTIFICATIONS_RESULTS, assert_entity
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def test_grouped_notifications(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    fans = [second_api(live_instance, session, http) for _ in range(3)]
    liked = api.status_post("like this one")
    for _, fan_api in fans:
        fan_api.status_favourite(liked["id"])
    mention = fans[0][1].status_post(f"@{person.handle} hello there")
    favourite_types = {"types[]": ["favourite", "mention"]}
    eventually(
        lambda: len(raw.get("/api/v1/notifications", params=favourite_types).json()) == 4,
        "three likes and a mention notified",
    )

    answer = raw.get("/api/v2/notifications", params=favourite_types)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert_entity(body, GROUPED_NOTIFICATIONS_RESULTS)
    groups = body["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "favourite"]
    likes = groups[1]
    assert likes["notifications_count"] == 3
    assert likes["status_id"] == str(liked["id"])
    fan_ids = [fan.id for fan, _ in fans]
    assert likes["sample_account_ids"] == list(reversed(fan_ids))  # latest first
    assert {a["id"] for a in body["accounts"]} >= set(fan_ids)
    assert {s["id"] for s in body["statuses"]} == {str(liked["id"]), str(mention["id"])}
    assert groups[0]["group_key"].startswith("ungrouped-")
    assert groups[0]["notifications_count"] == 1
    assert 'rel="prev"' in answer.headers["Link"]

    # The same through Mastodon.py, and v1 naming the same group keys.
    through = api.grouped_notifications(types=["favourite"])
    assert through["notification_groups"][0]["group_key"] == likes["group_key"]
    v1 = raw.get("/api/v1/notifications", params={"types[]": ["favourite"]}).json()
    assert {n["group_key"] for n in v1} == {likes["group_key"]}

    # A page smaller than the group still counts the whole group.
    small = raw.get("/api/v2/notifications", params={"types[]": "favourite", "limit": 1})
    assert small.json()["notification_groups"][0]["notifications_count"] == 3
    assert (
        small.json()["notification_groups"][0]["page_min_id"]
        == (small.json()["notification_groups"][0]["page_max_id"])
    )

    # A client that will not group likes gets them one by one.
    apart = raw.get(
        "/api/v2/notifications", params={"types[]": "favourite", "grouped_types[]": "reblog"}
    ).json()
    assert [g["notifications_count"] for g in apart["notification_groups"]] == [1, 1, 1]

    # One group, its accounts, the unread counts, dismissing it.
    one = api.grouped_notification(likes["group_key"])
    assert one["notification_groups"][0]["notifications_count"] == 3
    accounts = api.grouped_notification_accounts(likes["group_key"])
    assert [str(a["id"]) for a in accounts] == list(reversed(fan_ids))
    assert raw.get("/api/v2/notifications/nope-1").status_code == 404
    assert raw.get("/api/v2/notifications/nope-1/accounts").json() == {"error": "Record not found"}
    counts = raw.get("/api/v1/notifications/unread_count", params=favourite_types).json()
    grouped_counts = raw.get("/api/v2/notifications/unread_count", params=favourite_types).json()
    assert (counts, grouped_counts) == ({"count": 4}, {"count": 2})
    raw.post("/api/v1/markers", data={"notifications[last_read_id]": mention_notification(raw)})
    assert api.notifications_unread_count()["count"] == 0
    api.dismiss_grouped_notification(likes["group_key"])
    assert (
        raw.get("/api/v2/notifications", params={"types[]": "favourite"}).json()[
            "notification_groups"
        ]
        == []
    )
    raw.close()


def mention_notification(raw: httpx.Client) -> str:
    newest = raw.get("/api/v1/notifications", params={"limit": 1}).json()
    return str(newest[0]["id"])
