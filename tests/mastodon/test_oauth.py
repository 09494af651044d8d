"""OAuth 2 as Mastodon apps use it, end to end on a live instance: the consent form sent as
a browser would, codes, PKCE, tokens, revocation, and every failure refused with nothing
issued."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import asyncpg
import httpx

from tests.conftest import LiveInstance
from tests.mastodon.conftest import (
    REDIRECT,
    App,
    Person,
    authorise,
    bearer,
    consent_page,
    csrf_token,
    pkce_pair,
    register_app,
    send_consent,
    token_for,
)
from tests.mastodon.entities import (
    APPLICATION,
    CREDENTIAL_ACCOUNT,
    CREDENTIAL_APPLICATION,
    ERROR,
    OAUTH_ERROR,
    TOKEN,
    assert_entity,
)


def in_database(instance: LiveInstance, query: str, *args: object) -> object:
    """One statement on the live instance's database (the tests here are synchronous)."""

    async def run() -> object:
        conn = await asyncpg.connect(instance.database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def tokens_of(instance: LiveInstance, app: App) -> object:
    """Live tokens the app holds (to check that a refused request issued nothing)."""
    return in_database(
        instance,
        "SELECT count(*) FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id"
        " WHERE a.client_id = $1 AND t.revoked_at IS NULL",
        app.client_id,
    )


def oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_entity(body, OAUTH_ERROR)
    assert body["error"] == error


def test_code_flow_with_pkce_gives_a_token_that_never_expires(
    http: httpx.Client, logged_in: httpx.Client, person: Person
) -> None:
    app = register_app(http, scopes="read write")
    page = consent_page(logged_in, app, state="xyz 1")
    assert "Test app" in page.text and "write" in page.text
    assert "form-action 'self' https://app.example" in page.headers["Content-Security-Policy"]
    verifier, challenge = pkce_pair()
    query = authorise(
        logged_in, app, state="xyz 1", code_challenge=challenge, code_challenge_method="S256"
    )
    assert query["state"] == ["xyz 1"]
    answer = token_for(http, app, query["code"][0], code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert_entity(token, TOKEN)
    assert token["token_type"] == "Bearer" and token["scope"] == "read write"
    assert "expires_in" not in token and "refresh_token" not in token
    assert answer.headers["Cache-Control"] == "no-store"

    me = http.get("/api/v1/accounts/verify_credentials", headers=bearer(token["access_token"]))
    assert me.status_code == 200, me.text
    assert_entity(me.json(), CREDENTIAL_ACCOUNT)
    assert me.json()["acct"] == person.handle and me.json()["id"] == person.id
    assert me.json()["source"]["follow_requests_count"] == 0

    own = http.get("/api/v1/apps/verify_credentials", headers=bearer(token["access_token"]))
    assert_entity(own.json(), APPLICATION)
    assert "client_secret" not in own.json() and own.json()["scopes"] == ["read", "write"]


def test_app_registration_takes_forms_json_and_custom_schemes(http: httpx.Client) -> None:
    made = http.post(
        "/api/v1/apps",
        json={
            "client_name": "JSON app",
            "redirect_uris": ["myapp://oauth/callback", "urn:ietf:wg:oauth:2.0:oob"],
            "scopes": "read:statuses write:media profile",
            "website": "https://json.example",
        },
    )
    assert made.status_code == 200, made.text
    body = made.json()
    assert_entity(body, CREDENTIAL_APPLICATION)
    assert body["redirect_uris"] == ["myapp://oauth/callback", "urn:ietf:wg:oauth:2.0:oob"]
    assert body["redirect_uri"] == "myapp://oauth/callback\nurn:ietf:wg:oauth:2.0:oob"
    assert body["scopes"] == ["read:statuses", "write:media", "profile"]
    assert body["client_secret_expires_at"] == 0
    form = http.post(
        "/api/v1/apps",
        data={"client_name": "Form app", "redirect_uris[]": ["https://a.example/cb", REDIRECT]},
    )
    assert form.status_code == 200, form.text
    assert form.json()["redirect_uris"] == ["https://a.example/cb", REDIRECT]
    assert form.json()["scopes"] == ["read"]  # the default


def test_bad_app_registrations_are_422_naming_the_field(http: httpx.Client) -> None:
    cases = [
        ({"redirect_uris": REDIRECT}, "client_name"),
        ({"client_name": "x"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": "/relative"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": REDIRECT + "#frag"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read admin:read"}, "scopes"),
        ({"client_name": "x" * 61, "redirect_uris": REDIRECT}, "client_name"),
    ]
    for sent, field in cases:
        answer = http.post("/api/v1/apps", data=sent)
        assert answer.status_code == 422, (sent, answer.text)
        assert_entity(answer.json(), ERROR)
        assert answer.json()["error"].startswith(f"Validation failed: {field}"), answer.text


def test_wrong_client_secret_issues_nothing(
    http: httpx.Client, logged_in: httpx.Client, live_instance: LiveInstance
) -> None:
    app = register_app(http)
    code = authorise(logged_in, app)["code"][0]
    wrong = App(app.client_id, app.client_secret[:-2] + "xx", app.redirect_uris, app.scopes)
    oauth_error(token_for(http, wrong, code), 401, "invalid_client")
    unknown = App("nope", app.client_secret, app.redirect_uris, app.scopes)
    oauth_error(token_for(http, unknown, code), 401, "invalid_client")
    assert tokens_of(live_instance, app) == 0
    # The code was not spent: its app still redeems it.
    assert token_for(http, app, code).status_code == 200


def test_a_code_works_once_and_a_replay_revokes_its_token(
    http: httpx.Client, logged_in: httpx.Client, live_instance: LiveInstance
) -> None:
    app = register_app(http)
    code = authorise(logged_in, app)["code"][0]
    first = token_for(http, app, code)
    assert first.status_code == 200
    oauth_error(token_for(http, app, code), 400, "invalid_grant")
    assert tokens_of(live_instance, app) == 0
    gone = http.get("/api/v1/apps/verify_credentials", headers=bearer(first.json()["access_token"]))
    assert gone.status_code == 401
    assert gone.json() == {"error": "The access token is invalid"}


def test_an_expired_code_is_refused(
    http: httpx.Client, logged_in: httpx.Client, live_instance: LiveInstance
) -> None:
    app = register_app(http)
    code = authorise(logged_in, app)["code"][0]
    in_database(  # eleven minutes ago: past CODE_LIFETIME (ten)
        live_instance,
        "UPDATE oauth_codes SET created_at = now() - interval '11 minutes'"
        " WHERE app_id = (SELECT id FROM oauth_apps WHERE client_id = $1)",
        app.client_id,
    )
    oauth_error(token_for(http, app, code), 400, "invalid_grant")
    assert tokens_of(live_instance, app) == 0


def test_redirect_uris_must_match_exactly(
    http: httpx.Client, logged_in: httpx.Client, live_instance: LiveInstance
) -> None:
    app = register_app(http, redirect_uris=[REDIRECT, "https://app.example/other"])
    for wrong in (REDIRECT + "/", "https://evil.example/callback", REDIRECT + "?x=1"):
        page = consent_page(logged_in, app, redirect_uri=wrong)
        assert page.status_code == 400, page.text
        assert "Location" not in page.headers and "invalid_redirect_uri" in page.text
    code = authorise(logged_in, app)["code"][0]
    oauth_error(
        token_for(http, app, code, redirect_uri="https://app.example/other"), 400, "invalid_grant"
    )
    assert tokens_of(live_instance, app) == 0


def test_pkce_mismatch_or_missing_verifier_is_refused(
    http: httpx.Client, logged_in: httpx.Client, live_instance: LiveInstance
) -> None:
    app = register_app(http)
    verifier, challenge = pkce_pair()
    wrong = verifier[:-1] + ("A" if verifier[-1] != "A" else "B")
    for sent in ({"code_verifier": wrong}, {}):
        code = authorise(logged_in, app, code_challenge=challenge, code_challenge_method="S256")[
            "code"
        ][0]
        oauth_error(token_for(http, app, code, **sent), 400, "invalid_grant")
    plain = consent_page(logged_in, app, code_challenge=challenge, code_challenge_method="plain")
    assert plain.status_code == 400 and "S256" in plain.text
    assert tokens_of(live_instance, app) == 0


def test_scopes_are_enforced_per_endpoint(http: httpx.Client, logged_in: httpx.Client) -> None:
    app = register_app(http, scopes="read:statuses")
    token = token_for(http, app, authorise(logged_in, app)["code"][0]).json()["access_token"]
    refused = http.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json() == {"error": "This action is outside the authorized scopes"}
    assert http.get("/api/v1/markers", headers=bearer(token)).status_code == 200
    wrote = http.post(
        "/api/v1/markers", json={"home": {"last_read_id": "1"}}, headers=bearer(token)
    )
    assert wrote.status_code == 403
    # An app asking for more than it registered is refused on the consent page.
    wider = consent_page(logged_in, app, scope="read")
    assert wider.status_code == 400 and "invalid_scope" in wider.text
    # `profile` reads one's own account and nothing else.
    profile_app = register_app(http, scopes="profile")
    profile = token_for(http, profile_app, authorise(logged_in, profile_app)["code"][0])
    only = profile.json()["access_token"]
    assert http.get("/api/v1/accounts/verify_credentials", headers=bearer(only)).status_code == 200
    assert http.get("/api/v1/preferences", headers=bearer(only)).status_code == 403


def test_revoked_tokens_stop_working_and_only_their_app_revokes_them(
    http: httpx.Client, logged_in: httpx.Client
) -> None:
    app = register_app(http)
    other = register_app(http)
    token = token_for(http, app, authorise(logged_in, app)["code"][0]).json()["access_token"]
    refused = http.post(
        "/oauth/revoke",
        data={"client_id": other.client_id, "client_secret": other.client_secret, "token": token},
    )
    oauth_error(refused, 403, "unauthorized_client")
    assert http.get("/api/v1/preferences", headers=bearer(token)).status_code == 200
    done = http.post(
        "/oauth/revoke",
        data={"client_id": app.client_id, "client_secret": app.client_secret, "token": token},
    )
    assert done.status_code == 200 and done.json() == {}
    assert http.get("/api/v1/preferences", headers=bearer(token)).status_code == 401
    again = http.post(  # idempotent, as RFC 7009 asks
        "/oauth/revoke",
        data={"client_id": app.client_id, "client_secret": app.client_secret, "token": token},
    )
    assert again.status_code == 200


def test_client_credentials_and_basic_auth(http: httpx.Client) -> None:
    app = register_app(http, scopes="read write")
    answer = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(app.client_id, app.client_secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "read"
    token = answer.json()["access_token"]
    assert http.get("/api/v1/apps/verify_credentials", headers=bearer(token)).status_code == 200
    person_only = http.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert person_only.status_code == 422
    assert person_only.json() == {"error": "This method requires an authenticated user"}
    in_json = http.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "scope": "read write",
        },
    )
    assert in_json.status_code == 200 and in_json.json()["scope"] == "read write"
    wider = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "push"},
        auth=(app.client_id, app.client_secret),
    )
    oauth_error(wider, 400, "invalid_scope")
    oauth_error(
        http.post("/oauth/token", json={"grant_type": "password"}), 400, "unsupported_grant_type"
    )


def test_denying_and_out_of_band(http: httpx.Client, logged_in: httpx.Client) -> None:
    app = register_app(http)
    denied = send_consent(logged_in, consent_page(logged_in, app, state="s"), "deny")
    assert denied.status_code == 303
    assert denied.headers["Location"].startswith(REDIRECT + "?error=access_denied")
    assert denied.headers["Location"].endswith("&state=s")

    oob = register_app(http, redirect_uris=["urn:ietf:wg:oauth:2.0:oob"])
    shown = send_consent(logged_in, consent_page(logged_in, oob), "approve")
    assert shown.status_code == 200 and "Location" not in shown.headers
    code = shown.text.split('id="f-code" type="text" value="', 1)[1].split('"', 1)[0]
    assert token_for(http, oob, code).status_code == 200


def test_logging_in_first_and_force_login(
    http: httpx.Client, browser_client: httpx.Client, person: Person
) -> None:
    app = register_app(http)
    first = consent_page(browser_client, app, state="s")
    assert first.status_code == 303
    assert first.headers["Location"].startswith("/auth/login?next=%2Foauth%2Fauthorize%3F")
    login_page = browser_client.get(first.headers["Location"])
    sent = browser_client.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(login_page.text),
            "login": person.handle,
            "password": person.password,
            "next": unquote(first.headers["Location"].split("next=", 1)[1]),
        },
    )
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/oauth/authorize?")
    assert browser_client.get(sent.headers["Location"]).status_code == 200
    forced = consent_page(browser_client, app, force_login="true")
    assert forced.status_code == 303 and forced.headers["Location"].startswith("/auth/login")
    assert consent_page(browser_client, app).status_code == 303  # logged out now


def test_metadata_names_the_endpoints(http: httpx.Client, live_instance: LiveInstance) -> None:
    found = http.get("/.well-known/oauth-authorization-server")
    assert found.status_code == 200
    body = found.json()
    base = live_instance.config.instance.base_url
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["app_registration_endpoint"] == f"{base}/api/v1/apps"
    assert body["token_endpoint"] == f"{base}/oauth/token"
    assert body["grant_types_supported"] == ["authorization_code", "client_credentials"]
    assert "read:statuses" in body["scopes_supported"]
    assert found.headers["Access-Control-Allow-Origin"] == "*"


def test_authorised_apps_are_listed_and_revoked_in_settings(
    http: httpx.Client, logged_in: httpx.Client
) -> None:
    app = register_app(http)
    token = token_for(http, app, authorise(logged_in, app)["code"][0]).json()["access_token"]
    page = logged_in.get("/settings/apps")
    assert page.status_code == 200 and "Test app" in page.text
    sessions = logged_in.get("/settings/sessions")
    assert "Test app (app)" not in sessions.text  # listed with the apps, not the logins
    app_id = page.text.split('action="/settings/apps/', 1)[1].split("/", 1)[0]
    revoked = logged_in.post(
        f"/settings/apps/{app_id}/revoke", data={"csrf_token": csrf_token(page.text)}
    )
    assert revoked.status_code == 303
    assert http.get("/api/v1/preferences", headers=bearer(token)).status_code == 401
    assert "Test app" not in logged_in.get("/settings/apps").text


JSON = {"Content-Type": "application/json"}


def test_odd_input_is_a_4xx_never_a_500(http: httpx.Client, logged_in: httpx.Client) -> None:
    app = register_app(http)
    nul = "a\x00b"
    sent = [
        ("POST", "/api/v1/apps", {"json": {"client_name": nul, "redirect_uris": REDIRECT}}),
        (
            "POST",
            "/api/v1/apps",
            {
                "json": {
                    "client_name": "x",
                    "redirect_uris": REDIRECT,
                    "website": "https://a.example/\x00",
                }
            },
        ),
        ("POST", "/api/v1/apps", {"json": {"client_name": "x", "redirect_uris": 5}}),
        ("POST", "/api/v1/apps", {"json": ["not", "an", "object"]}),
        ("POST", "/api/v1/apps", {"content": b"{broken", "headers": JSON}),
        (
            "POST",
            "/oauth/token",
            {"json": {"grant_type": "client_credentials", "client_id": nul, "client_secret": nul}},
        ),
        (
            "POST",
            "/oauth/token",
            {
                "json": {
                    "grant_type": "authorization_code",
                    "code": nul,
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                }
            },
        ),
        (
            "POST",
            "/oauth/token",
            {
                "headers": {"Authorization": "Basic !!!"},
                "data": {"grant_type": "client_credentials"},
            },
        ),
        (
            "POST",
            "/oauth/revoke",
            {"data": {"client_id": app.client_id, "client_secret": app.client_secret}},
        ),
        ("GET", "/api/v1/lists", {"headers": {"Authorization": "Bearer " + "x" * 5000}}),
    ]
    for method, path, extra in sent:
        answer = http.request(method, path, **extra)  # type: ignore[arg-type]
        assert 400 <= answer.status_code < 500, (path, extra, answer.text)
        assert "error" in answer.json(), answer.text
    page = logged_in.get("/oauth/authorize", params={"client_id": nul, "response_type": "code"})
    assert 400 <= page.status_code < 500
