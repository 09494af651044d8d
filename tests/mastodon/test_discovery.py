"""Familiar followers, and the answers for Mastodon features stgy does not have, through
Mastodon.py and raw HTTP on a live instance."""

from __future__ import annotations

import httpx
import pytest
import requests
from mastodon import MastodonAPIError

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def test_familiar_followers(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    friend, friend_api = second_api(live_instance, session, http)
    stranger, stranger_api = second_api(live_instance, session, http)
    target, _ = second_api(live_instance, session, http)
    api.account_follow(friend.id)
    friend_api.account_follow(target.id)
    stranger_api.account_follow(target.id)  # followed by someone the person does not follow

    found = eventually(
        lambda: api.account_familiar_followers([target.id, stranger.id]),
        "familiar followers",
    )
    assert [str(f["id"]) for f in found] == [target.id, stranger.id]
    assert [str(a["id"]) for a in found[0]["accounts"]] == [friend.id]
    assert found[1]["accounts"] == []
    raw = bearer(live_instance, api)
    bad = raw.get("/api/v1/accounts/familiar_followers", params={"id[]": "x"})
    assert bad.status_code == 404 and bad.json() == {"error": "Record not found"}
    too_many = raw.get("/api/v1/accounts/familiar_followers", params={"id[]": ["1"] * 41})
    assert too_many.status_code == 422
    raw.close()


def test_features_stgy_lacks_answer_honestly(
    live_instance: LiveInstance, session: requests.Session, logged_in: httpx.Client
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    status = api.status_post("pin me if you can")
    for path in (
        "/api/v1/suggestions",
        "/api/v2/suggestions",
        "/api/v1/endorsements",
        "/api/v1/featured_tags",
        "/api/v1/scheduled_statuses",
        "/api/v1/domain_blocks",
        "/api/v1/directory",
        f"/api/v1/accounts/{status['account']['id']}/featured_tags",
    ):
        answer = raw.get(path)
        assert (answer.status_code, answer.json()) == (200, []), path
    for path in ("pin", "unpin", "mute", "translate"):
        answer = raw.post(f"/api/v1/statuses/{status['id']}/{path}")
        assert answer.status_code == 422, path
        assert "not" in answer.json()["error"], answer.json()
    with pytest.raises(MastodonAPIError):
        api.status_pin(status["id"])
    assert raw.post("/api/v1/domain_blocks", data={"domain": "x.example"}).status_code == 422
    assert raw.get("/api/v1/polls/1").status_code == 404
    assert raw.get("/api/v1/instance/translation_languages").json() == {}
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        assert anonymous.get("/api/v1/suggestions").status_code == 401
    raw.close()
