"""Statuses and timelines through Mastodon.py on a live instance, and the raw JSON of
each endpoint checked against Mastodon's entities."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNotFoundError,
    MastodonUnauthorizedError,
)
from PIL import Image

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person, register_person, web_log_in
from tests.mastodon.entities import (
    ACCOUNT,
    CONTEXT,
    STATUS,
    STATUS_EDIT,
    STATUS_SOURCE,
    assert_entities,
    assert_entity,
)
from tests.mastodon.test_mastodon_py import logged_in_api


def bearer(live_instance: LiveInstance, api: Mastodon) -> httpx.Client:
    return httpx.Client(
        base_url=live_instance.url,
        timeout=30,
        headers={"Authorization": f"Bearer {api.access_token}"},
    )


def eventually(check: Callable[[], Any], what: str, seconds: float = 10) -> Any:
    """What `check` returns once it is true (jobs such as fan-out run in the worker)."""
    for _ in range(int(seconds / 0.05)):
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def next_page(answer: httpx.Response) -> str:
    """The path and query of an answer's `rel="next"` link (its host is the instance's
    domain, which only the loopback adapter knows)."""
    for part in answer.headers["Link"].split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            parts = urlsplit(url.strip()[1:-1])
            return f"{parts.path}?{parts.query}"
    raise AssertionError(f"no next link: {answer.headers['Link']}")


def second_api(
    live_instance: LiveInstance, session: requests.Session, http: httpx.Client
) -> tuple[Person, Mastodon]:
    other = register_person(http, "n")
    with httpx.Client(base_url=live_instance.url, timeout=30) as browser:
        web_log_in(browser, other)
        return other, logged_in_api(live_instance, session, browser)


def test_statuses_through_mastodon_py(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    tag = "t" + uuid.uuid4().hex[:10]

    posted = api.status_post(f"Hello **Mastodon** #{tag}", spoiler_text="cw", language="en")
    assert posted["spoiler_text"] == "cw" and posted["sensitive"] is True
    assert "<strong>Mastodon</strong>" in posted["content"]
    assert posted["text"] == f"Hello **Mastodon** #{tag}"
    assert posted["account"]["acct"] == person.handle
    assert posted["tags"][0]["name"] == tag
    status_id = str(posted["id"])
    got = raw.get(f"/api/v1/statuses/{status_id}")
    assert got.status_code == 200, got.text
    assert_entity(got.json(), STATUS)
    assert got.json()["interaction_policy"]["can_favourite"]["always"] == ["public"]
    assert got.json()["favourited"] is False

    # Idempotency-Key: the same key from the same token gives the first status back.
    first = raw.post("/api/v1/statuses", data={"status": "once"}, headers={"Idempotency-Key": "k1"})
    again = raw.post("/api/v1/statuses", data={"status": "once"}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    # The same key from another token (another login of the same person): a new status.
    with bearer(live_instance, logged_in_api(live_instance, session, logged_in)) as raw2:
        other = raw2.post(
            "/api/v1/statuses", data={"status": "once"}, headers={"Idempotency-Key": "k1"}
        )
    assert other.status_code == 200 and other.json()["id"] != first.json()["id"]

    # Replies, context, edits, source and history.
    reply = api.status_post("a reply", in_reply_to_id=status_id, visibility="unlisted")
    assert str(reply["in_reply_to_id"]) == status_id and reply["visibility"] == "unlisted"
    context = raw.get(f"/api/v1/statuses/{status_id}/context").json()
    assert_entity(context, CONTEXT)
    assert_entities(context["descendants"], STATUS)
    assert [s["id"] for s in context["descendants"]] == [str(reply["id"])]
    assert api.status_context(reply["id"])["ancestors"][0]["id"] == posted["id"]

    edited = api.status_update(status_id, f"Edited #{tag}", spoiler_text="")
    assert edited["edited_at"] is not None and "Edited" in edited["content"]
    source = raw.get(f"/api/v1/statuses/{status_id}/source").json()
    assert_entity(source, STATUS_SOURCE)
    assert source["text"] == f"Edited #{tag}"
    assert api.status_source(status_id)["spoiler_text"] == ""
    history = raw.get(f"/api/v1/statuses/{status_id}/history").json()
    assert_entities(history, STATUS_EDIT)
    assert len(history) == 2 and "Mastodon" in history[0]["content"]
    assert len(api.status_history(status_id)) == 2

    # Favourite, reblog, bookmark: the viewer's state is spliced into the status.
    assert api.status_favourite(status_id)["favourited"] is True
    assert api.status_favourite(status_id)["favourites_count"] == 1
    liked = raw.get(f"/api/v1/statuses/{status_id}/favourited_by").json()
    assert [a["acct"] for a in liked] == [person.handle]
    assert api.status_unfavourite(status_id)["favourited"] is False
    reblogged = raw.post(f"/api/v1/statuses/{status_id}/reblog")
    assert_entity(reblogged.json(), STATUS)
    assert reblogged.json()["reblog"]["id"] == status_id
    assert reblogged.json()["reblog"]["reblogged"] is True
    assert reblogged.json()["id"] != status_id
    again = api.status_reblog(status_id)  # a second time: the same reblog
    assert str(again["id"]) == reblogged.json()["id"]
    wrapped = eventually(
        lambda: [s for s in raw.get("/api/v1/timelines/home").json() if s["reblog"] is not None],
        "the reblog in the home timeline",
    )
    assert_entity(wrapped[0], STATUS)
    assert wrapped[0]["reblog"]["id"] == status_id and wrapped[0]["reblog"]["reblogged"] is True
    assert api.status_unreblog(status_id)["reblogged"] is False
    assert api.status_bookmark(status_id)["bookmarked"] is True
    assert api.status_unbookmark(status_id)["bookmarked"] is False

    # Timelines: the home timeline (fan-out runs in a job), public and the tag's.
    for n in range(3):
        api.status_post(f"page {n} #{tag}")
    home = eventually(
        lambda: len(api.timeline_home(limit=40)) >= 6 and api.timeline_home(limit=2), "home"
    )
    assert len(home) == 2
    older = api.fetch_next(home)
    assert older and all(int(s["id"]) < int(home[-1]["id"]) for s in older)
    raw_home = raw.get("/api/v1/timelines/home", params={"limit": 3})
    assert_entities(raw_home.json(), STATUS)
    assert 'rel="next"' in raw_home.headers["Link"]
    assert raw_home.headers["Link"].startswith(f"<{live_instance.config.instance.base_url}/")
    tagged = api.timeline_hashtag(tag, limit=2)
    assert len(tagged) == 2 and all(tag in [t["name"] for t in s["tags"]] for s in tagged)
    tagged_rest = api.fetch_next(tagged)
    assert tagged_rest and len(tagged_rest) >= 1
    public = http.get("/api/v1/timelines/public", params={"local": "true", "limit": 5})
    assert public.status_code == 200
    assert_entities(public.json(), STATUS)
    assert len(api.timeline_public(local=True, limit=5)) == 5
    with pytest.raises(MastodonNotFoundError):
        api.timeline_list(1)

    # An attachment (uploaded through the native API): meta with the real sizes.
    login = http.post(
        "/api/auth/login", json={"handle": person.handle, "password": person.password}
    )
    picture = io.BytesIO()
    Image.new("RGB", (800, 200), (200, 40, 40)).save(picture, "PNG")
    uploaded = http.post(
        "/api/media",
        files={"file": ("red.png", picture.getvalue(), "image/png")},
        headers={"Authorization": f"Bearer {login.json()['token']}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    with_media = raw.post(
        "/api/v1/statuses", data={"status": "a picture", "media_ids[]": uploaded.json()["id"]}
    )
    assert with_media.status_code == 200, with_media.text
    assert_entity(with_media.json(), STATUS)
    attachment = with_media.json()["media_attachments"][0]
    assert attachment["type"] == "image"
    assert attachment["meta"]["original"] == {
        "width": 800,
        "height": 200,
        "size": "800x200",
        "aspect": 4.0,
    }
    assert attachment["meta"]["small"]["width"] == 400
    assert attachment["meta"]["small"]["size"] == "400x100"

    # Delete: the deleted status, with its source.
    deleted = raw.delete(f"/api/v1/statuses/{reply['id']}")
    assert deleted.status_code == 200 and deleted.json()["text"] == "a reply"
    with pytest.raises(MastodonNotFoundError):
        api.status(reply["id"])

    # The home timeline remembers a token's holder for a while, but its statement checks
    # the session: a revoked token is refused at once.
    assert api.timeline_home(limit=1)
    api.revoke_access_token(allow_http=True)
    home_after = raw.get("/api/v1/timelines/home")
    assert home_after.status_code == 401
    assert home_after.json() == {"error": "The access token is invalid"}
    with pytest.raises(MastodonUnauthorizedError):
        api.timeline_home()
    raw.close()


def test_refusals_and_bad_input_answer_json(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    for params in (
        {"status": "x", "visibility": "everyone"},
        {"status": "x", "in_reply_to_id": "abc"},
        {"status": "x", "sensitive": "maybe"},
        {"status": "x", "language": "not a language"},
        {"status": ""},
    ):
        answer = raw.post("/api/v1/statuses", data=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"].startswith("Validation failed"), answer.text
    assert raw.get("/api/v1/statuses/12x").status_code == 404
    assert raw.get("/api/v1/statuses/99999999999999999999").json() == {"error": "Record not found"}
    assert raw.get("/api/v1/timelines/home", params={"max_id": "x"}).status_code == 422
    assert http.get("/api/v1/timelines/home").status_code == 401
    assert raw.get("/api/v1/timelines/tag/x", params={"only_media": "maybe"}).status_code == 422
    assert raw.get("/api/v1/timelines/public", params={"remote": "maybe"}).status_code == 422

    # A post that does not accept likes (written through the native API) refuses them.
    author = register_person(http, "l")
    login = http.post(
        "/api/auth/login", json={"handle": author.handle, "password": author.password}
    )
    assert login.status_code == 200, login.text
    native = http.post(
        "/api/posts",
        json={"text": "no likes", "allow_likes": False},
        headers={"Authorization": f"Bearer {login.json()['token']}"},
    )
    assert native.status_code == 201, native.text
    post_id = native.json()["id"]
    shown = raw.get(f"/api/v1/statuses/{post_id}").json()
    assert shown["interaction_policy"]["can_favourite"]["always"] == ["author"]
    refused = raw.post(f"/api/v1/statuses/{post_id}/favourite")
    assert refused.status_code == 403 and isinstance(refused.json()["error"], str)
    with pytest.raises(MastodonAPIError):
        api.status_favourite(post_id)
    raw.close()


def test_who_favourited_and_reblogged_and_the_favourites_list(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    other, other_api = second_api(live_instance, session, http)
    status = api.status_post("like and share me")
    for who in (api, other_api):
        who.status_favourite(status["id"])
        who.status_reblog(status["id"])

    first = raw.get(f"/api/v1/statuses/{status['id']}/favourited_by", params={"limit": 1})
    assert_entities(first.json(), ACCOUNT)
    assert [a["acct"] for a in first.json()] == [other.handle]
    assert 'rel="next"' in first.headers["Link"]
    rest = raw.get(next_page(first))
    assert [a["acct"] for a in rest.json()] == [person.handle]
    assert [a["acct"] for a in api.status_favourited_by(status["id"])] == [
        other.handle,
        person.handle,
    ]

    shared = raw.get(f"/api/v1/statuses/{status['id']}/reblogged_by", params={"limit": 1})
    assert_entities(shared.json(), ACCOUNT)
    assert [a["acct"] for a in shared.json()] == [other.handle]
    rest = raw.get(next_page(shared))
    assert [a["acct"] for a in rest.json()] == [person.handle]
    assert "Link" not in rest.headers
    assert len(api.status_reblogged_by(status["id"])) == 2

    older = other_api.status_post("an older one")
    api.status_favourite(older["id"])
    liked = api.favourites(limit=1)
    assert [s["id"] for s in liked] == [older["id"]]
    assert [s["id"] for s in api.fetch_next(liked)] == [status["id"]]
    raw_liked = raw.get("/api/v1/favourites").json()
    assert_entities(raw_liked, STATUS)
    assert all(s["favourited"] is True for s in raw_liked)
    bad = raw.get(f"/api/v1/statuses/{status['id']}/favourited_by", params={"max_id": "zz"})
    assert bad.status_code in (400, 422) and "error" in bad.json()
    raw.close()
