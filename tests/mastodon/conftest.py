"""Helpers for the Mastodon API tests: a person logged in to the web UI of a live instance,
apps registered over HTTP, and the consent form sent as a browser would (httpx)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import LiveInstance, unique_handle

REDIRECT = "https://app.example/callback"
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass(frozen=True)
class Person:
    handle: str
    password: str
    id: str


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: str


def register_person(http: httpx.Client, prefix: str = "m") -> Person:
    handle = unique_handle(prefix)
    password = f"{secrets.token_hex(6)} mastodon password"
    made = http.post(
        "/api/accounts",
        json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
    )
    assert made.status_code == 201, made.text
    return Person(handle, password, made.json()["id"])


def csrf_token(page_html: str) -> str:
    found = _META_CSRF.search(page_html)
    assert found, "no CSRF token in the page"
    return unescape(found.group(1))


def web_log_in(browser: httpx.Client, person: Person) -> None:
    """Log `browser` (a cookie-keeping client) in through the web login form."""
    page = browser.get("/auth/login")
    sent = browser.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(page.text),
            "login": person.handle,
            "password": person.password,
        },
    )
    assert sent.status_code == 303, sent.text


def register_app(
    http: httpx.Client,
    *,
    scopes: str = "read write follow push",
    redirect_uris: list[str] | None = None,
) -> App:
    uris = redirect_uris or [REDIRECT]
    made = http.post(
        "/api/v1/apps",
        data={"client_name": "Test app", "redirect_uris": "\n".join(uris), "scopes": scopes},
    )
    assert made.status_code == 200, made.text
    body = made.json()
    return App(body["client_id"], body["client_secret"], uris, scopes)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def consent_page(browser: httpx.Client, app: App, **params: str) -> httpx.Response:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uris[0],
        "scope": app.scopes,
        **params,
    }
    return browser.get("/oauth/authorize?" + urlencode(query))


def send_consent(browser: httpx.Client, page: httpx.Response, decision: str) -> httpx.Response:
    """Send the consent form the page shows, as a browser would."""
    assert page.status_code == 200, page.text
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(page.text)}
    fields["decision"] = decision
    return browser.post("/oauth/authorize", data=fields)


def authorise(browser: httpx.Client, app: App, **params: str) -> dict[str, list[str]]:
    """Approve the app on the consent form; the query the redirect carries."""
    answer = send_consent(browser, consent_page(browser, app, **params), "approve")
    assert answer.status_code == 303, answer.text
    location = answer.headers["Location"]
    assert location.startswith(app.redirect_uris[0] + "?") or params.get("redirect_uri")
    return parse_qs(urlsplit(location).query)


def token_for(http: httpx.Client, app: App, code: str, **extra: str) -> httpx.Response:
    return http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": app.redirect_uris[0],
            **extra,
        },
    )


@pytest.fixture
def http(live_instance: LiveInstance) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_instance.url, timeout=30) as client:
        yield client


@pytest.fixture
def browser_client(live_instance: LiveInstance) -> Iterator[httpx.Client]:
    """A client that keeps cookies, as a browser does (for the web login and consent)."""
    with httpx.Client(base_url=live_instance.url, timeout=30) as client:
        yield client


@pytest.fixture
def person(http: httpx.Client) -> Person:
    return register_person(http)


@pytest.fixture
def logged_in(browser_client: httpx.Client, person: Person) -> httpx.Client:
    web_log_in(browser_client, person)
    return browser_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
