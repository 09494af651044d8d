"""Conversations (threads of direct posts) through Mastodon.py on a live instance: who sees
them, unread and read, paging, removal, and a deleted last post."""

from __future__ import annotations

import httpx
import pytest
import requests
from mastodon import MastodonNotFoundError

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.entities import CONVERSATION, assert_entities, assert_entity
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def test_conversations_of_direct_posts(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    other, other_api = second_api(live_instance, session, http)
    third, third_api = second_api(live_instance, session, http)

    # A public post that mentions someone is no conversation.
    api.status_post(f"@{other.handle} hello in public")
    first = api.status_post(f"@{other.handle} just between us", visibility="direct")
    theirs = eventually(lambda: other_api.conversations(), "the conversation reaches them")
    assert len(theirs) == 1
    assert theirs[0]["unread"] is True
    assert str(theirs[0]["last_status"]["id"]) == str(first["id"])
    assert [a["acct"] for a in theirs[0]["accounts"]] == [person.handle]
    assert third_api.conversations() == []

    mine = eventually(lambda: raw.get("/api/v1/conversations").json(), "the author's row")
    assert_entities(mine, CONVERSATION)
    assert mine[0]["unread"] is False  # the author has read their own post
    assert [a["acct"] for a in mine[0]["accounts"]] == [other.handle]

    # A reply in the same thread moves the same conversation on; it is unread again for
    # the one who did not write it.
    read = other_api.conversations_read(theirs[0]["id"])
    assert read["unread"] is False
    reply = other_api.status_post(
        f"@{person.handle} yes, between us", visibility="direct", in_reply_to_id=first["id"]
    )
    moved = eventually(
        lambda: [c for c in api.conversations() if str(c["last_status"]["id"]) == str(reply["id"])],
        "the reply moves the conversation",
    )
    assert moved[0]["id"] == mine[0]["id"] and moved[0]["unread"] is True
    assert len(api.conversations()) == 1
    assert other_api.conversations()[0]["unread"] is False

    # A second thread: newest first, paged by the last status, Link headers both ways.
    second = api.status_post(f"@{other.handle} @{third.handle} a new topic", visibility="direct")
    eventually(lambda: len(api.conversations()) == 2, "two conversations")
    page = raw.get("/api/v1/conversations", params={"limit": 1})
    assert [c["last_status"]["id"] for c in page.json()] == [str(second["id"])]
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]
    older = api.conversations(max_id=second["id"])
    assert [str(c["last_status"]["id"]) for c in older] == [str(reply["id"])]
    newer = api.conversations(min_id=reply["id"])
    assert [str(c["last_status"]["id"]) for c in newer] == [str(second["id"])]
    third_sees = eventually(lambda: third_api.conversations(), "the third person's row")
    assert sorted(a["acct"] for a in third_sees[0]["accounts"]) == sorted(
        [person.handle, other.handle]
    )

    # Deleting the last post of a thread points the conversation at the one before.
    other_api.status_delete(reply["id"])
    eventually(
        lambda: [
            c
            for c in api.conversations(max_id=second["id"])
            if str(c["last_status"]["id"]) == str(first["id"])
        ],
        "the conversation falls back to the post before",
    )
    # Deleting the only post of a thread removes its conversation.
    api.status_delete(second["id"])
    eventually(lambda: third_api.conversations() == [], "the thread is gone")

    # Removing one: gone for that person only; someone else's is not found.
    removed = other_api.conversations()[0]["id"]
    assert raw.delete(f"/api/v1/conversations/{removed}").status_code == 404
    assert raw.post(f"/api/v1/conversations/{removed}/read").json() == {"error": "Record not found"}
    other_raw = bearer(live_instance, other_api)
    gone = other_raw.delete(f"/api/v1/conversations/{removed}")
    assert gone.status_code == 200 and gone.json() == {}
    assert other_api.conversations() == []
    assert len(api.conversations()) == 1
    with pytest.raises(MastodonNotFoundError):
        other_api.conversations_read(removed)
    assert raw.post("/api/v1/conversations/nope/read").status_code == 404
    assert_entity(raw.get("/api/v1/conversations").json()[0], CONVERSATION)
    # Without a token: refused.
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        assert anonymous.get("/api/v1/conversations").status_code == 401
    raw.close()
    other_raw.close()
