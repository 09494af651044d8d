"""Hashtags from a Mastodon app: the Tag, following and unfollowing it, and the public posts
with a followed tag arriving in the home timeline, through Mastodon.py on a live instance."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
import requests
from mastodon import MastodonNotFoundError

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.entities import HASHTAG, assert_entities, assert_entity
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def fanned_out(live_instance: LiveInstance, post_id: object) -> bool:
    """Whether the worker has handled the post's `post.created` event (fan-out included)."""

    async def check() -> bool:
        conn = await asyncpg.connect(live_instance.config.database.url)
        try:
            done = await conn.fetchval(
                "SELECT done_at IS NOT NULL FROM outbox_events WHERE kind = 'post.created'"
                " AND payload->>'post_id' = $1",
                str(post_id),
            )
            return bool(done)
        finally:
            await conn.close()

    return asyncio.run(check())


def _home_ids(raw: httpx.Client) -> list[str]:
    return [s["id"] for s in raw.get("/api/v1/timelines/home", params={"limit": 40}).json()]


def test_followed_tags_fill_the_home_timeline(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    _, stranger = second_api(live_instance, session, http)
    tag = "Tf" + uuid.uuid4().hex[:10]
    name = tag.lower()

    shown = raw.get(f"/api/v1/tags/{tag}").json()
    assert_entity(shown, HASHTAG)
    assert (shown["name"], shown["following"]) == (name, False)
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        assert "following" not in anonymous.get(f"/api/v1/tags/{tag}").json()
    assert raw.get("/api/v1/tags/no%20tag").json() == {"error": "Record not found"}

    followed = api.tag_follow(tag)
    assert followed["following"] is True
    assert api.tag_follow(tag)["following"] is True  # again: the same follow
    listed = raw.get("/api/v1/followed_tags").json()
    assert_entities(listed, HASHTAG)
    assert [t["name"] for t in listed] == [name]
    assert raw.get(f"/api/v1/tags/{tag}").json()["following"] is True
    found = raw.get("/api/v2/search", params={"q": f"#{name}", "type": "hashtags"}).json()
    assert found["hashtags"] == [] or found["hashtags"][0]["following"] is True

    # Someone the person does not follow posts with the tag: it arrives at home; their
    # unlisted and followers-only posts with it do not.
    public = stranger.status_post(f"look #{tag}")
    unlisted = stranger.status_post(f"quiet #{tag}", visibility="unlisted")
    private = stranger.status_post(f"friends #{tag}", visibility="private")
    for post in (public, unlisted, private):
        eventually(lambda p=post: fanned_out(live_instance, p["id"]), "the post's fan-out")
    home = _home_ids(raw)
    assert str(public["id"]) in home
    assert str(unlisted["id"]) not in home and str(private["id"]) not in home

    # Deleted: it leaves the home timeline.
    stranger.status_delete(public["id"])
    eventually(lambda: str(public["id"]) not in _home_ids(raw), "the deleted post leaves")

    # Unfollowed: new posts with the tag stay away.
    assert api.tag_unfollow(tag)["following"] is False
    assert api.followed_tags() == []
    later = stranger.status_post(f"again #{tag}")
    eventually(lambda: fanned_out(live_instance, later["id"]), "the post's fan-out")
    assert str(later["id"]) not in _home_ids(raw)
    with pytest.raises(MastodonNotFoundError):
        api.tag_follow("123")  # digits only: no tag
    raw.close()
