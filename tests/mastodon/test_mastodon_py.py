"""Mastodon.py, a real Mastodon client library, against a live instance: it registers an
app, the person authorises it on our consent form, it logs in with the code and reads
what apps read on start-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from mastodon import Mastodon, MastodonNotFoundError, MastodonUnauthorizedError
from requests.adapters import HTTPAdapter

from tests.conftest import LiveInstance
from tests.mastodon.conftest import REDIRECT, Person, send_consent

SCOPES = ["read", "write", "follow", "push"]


class LoopbackAdapter(HTTPAdapter):
    """Sends requests for the instance's own domain (`a.localhost:<port>`, which the
    system resolver does not know) to its loopback address: the URLs the server hands
    out (token endpoint, Link headers) name its domain."""

    def __init__(self, domain: str, address: str) -> None:
        super().__init__()
        self.domain = domain
        self.address = address

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.url:
            request.url = request.url.replace(f"//{self.domain}/", f"//{self.address}/", 1)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def session(live_instance: LiveInstance) -> Iterator[requests.Session]:
    made = requests.Session()
    address = urlsplit(live_instance.url).netloc
    made.mount("http://", LoopbackAdapter(live_instance.config.instance.domain, address))
    yield made
    made.close()


def logged_in_api(
    live_instance: LiveInstance, session: requests.Session, browser: httpx.Client
) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py test",
        scopes=SCOPES,
        redirect_uris=REDIRECT,
        website="https://mastodonpy.example",
        api_base_url=live_instance.url,
        session=session,
    )
    api = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=live_instance.url,
        session=session,
    )
    url = api.auth_request_url(
        redirect_uris=REDIRECT, scopes=SCOPES, state="mastodonpy", allow_http=True
    )
    parts = urlsplit(url)
    page = browser.get(f"{parts.path}?{parts.query}")
    answer = send_consent(browser, page, "approve")
    assert answer.status_code == 303, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["mastodonpy"]
    api.log_in(code=query["code"][0], redirect_uri=REDIRECT, scopes=SCOPES, allow_http=True)
    return api


def test_mastodon_py_logs_in_and_starts_up(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    me = api.account_verify_credentials()
    assert me["acct"] == person.handle and str(me["id"]) == person.id
    assert me["source"]["privacy"] == "public" and me["emojis"] == []

    v2 = api.instance_v2()
    assert v2["version"].startswith("4.3.0 (compatible; stgy ")
    assert v2["configuration"]["urls"]["streaming"].startswith("ws://")
    assert v2["configuration"]["statuses"]["max_characters"] == 5000
    assert "image/png" in v2["configuration"]["media_attachments"]["supported_mime_types"]
    assert api.instance()["domain"] == live_instance.config.instance.domain
    assert api.instance_v1()["uri"] == live_instance.config.instance.domain
    assert api.verify_minimum_version("4.3.0", cached=False)

    assert api.preferences()["posting:default:visibility"] == "public"
    assert api.app_verify_credentials()["name"] == "Mastodon.py test"
    assert api.filters() == [] and api.filters_v2() == [] and api.lists() == []
    assert api.announcements() == [] and api.custom_emojis() == []
    assert api.followed_tags() == [] and api.trending_tags() == []
    assert api.trending_statuses() == [] and api.trending_links() == []
    with pytest.raises(MastodonNotFoundError):
        api.push_subscription()

    assert api.markers_get(["home", "notifications"]) == {}
    api.markers_set(["home", "notifications"], [1234, 99])
    api.markers_set("home", 1240)
    found = api.markers_get(["home", "notifications"])
    assert str(found["home"]["last_read_id"]) == "1240" and found["home"]["version"] == 2
    assert str(found["notifications"]["last_read_id"]) == "99"

    api.revoke_access_token(allow_http=True)
    with pytest.raises(MastodonUnauthorizedError):
        api.account_verify_credentials()
