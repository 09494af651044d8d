"""The OAuth consent page and the authorised apps settings in Chromium: an app is
authorised (with and without JavaScript), the browser lands on the app's redirect URI
with the code, and the person revokes it in their settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from playwright.sync_api import Browser, Route

from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import SIZES_AND_SCHEMES, check_shown, new_context, sign_up, watch

REDIRECT = "https://app.example/callback"


def _register_app(instance: LiveInstance, redirect_uri: str = REDIRECT) -> dict[str, Any]:
    with httpx.Client(base_url=instance.url) as http:
        made = http.post(
            "/api/v1/apps",
            data={
                "client_name": "Photo Phone",
                "redirect_uris": redirect_uri,
                "scopes": "read write:statuses follow",
                "website": "https://app.example",
            },
        )
    assert made.status_code == 200, made.text
    body: dict[str, Any] = made.json()
    return body


def _authorize_path(app: dict[str, Any], redirect_uri: str = REDIRECT, **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "read write:statuses follow",
        "state": "st8",
        **extra,
    }
    return "/oauth/authorize?" + urlencode(query)


def _signed_up(browser: Browser, base_url: str, prefix: str) -> Any:
    """The cookies of a new member, signed up through the (English) form."""
    first = new_context(browser, base_url)
    sign_up(first.new_page(), unique_handle(prefix))
    state = first.storage_state()
    first.close()
    return state


def _answer_as_the_app(route: Route) -> None:
    route.fulfill(status=200, content_type="text/plain", body="the app got its code")


def test_consent_page_in_every_size_and_scheme(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    app = _register_app(web_instance)
    state = _signed_up(browser, base_url, "consent")
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = browser.new_context(
            base_url=base_url,
            storage_state=state,
            viewport=viewport,
            color_scheme=scheme,  # type: ignore[arg-type]
        )
        try:
            page = watch(context.new_page())
            response = page.page.goto(_authorize_path(app))
            assert response is not None and response.status == 200
            assert page.page.get_by_role("heading", name="Authorise Photo Phone").is_visible()
            check_shown(page, axe_source, f"oauth-consent-{size}-{scheme}")
        finally:
            context.close()


def test_authorising_lands_on_the_app_and_settings_revoke_it(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    app = _register_app(web_instance)
    for javascript in (True, False):
        context = new_context(browser, base_url, javascript=javascript)
        try:
            context.route("https://app.example/**", _answer_as_the_app)
            page = watch(context.new_page())
            handle = unique_handle("oauth")
            page.page.goto("/auth/signup")
            page.page.get_by_label("User name", exact=True).fill(handle)
            page.page.get_by_label("Email").fill(f"{handle}@example.com")
            page.page.get_by_label("Password").fill("a long web password 7")
            page.page.get_by_role("button", name="Create account").click()
            page.page.wait_for_url("**/")
            page.page.goto(_authorize_path(app))
            page.page.get_by_role("button", name="Authorise", exact=True).click()
            page.page.wait_for_url("https://app.example/callback?**")
            query = parse_qs(urlsplit(page.page.url).query)
            assert query["state"] == ["st8"] and len(query["code"][0]) >= 40
            assert page.violations == [], page.violations

            with httpx.Client(base_url=web_instance.url) as http:
                token = http.post(
                    "/oauth/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": query["code"][0],
                        "client_id": app["client_id"],
                        "client_secret": app["client_secret"],
                        "redirect_uri": REDIRECT,
                    },
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                me = http.get("/api/v1/accounts/verify_credentials", headers=headers)
                assert me.status_code == 200 and me.json()["username"] == handle

                page.page.goto("/settings/apps")
                assert page.page.get_by_text("Photo Phone").count() == 1
                if javascript:
                    check_shown(page, axe_source, "settings-apps-desktop-light")
                page.page.get_by_role("button", name="Revoke access of Photo Phone").click()
                page.page.wait_for_url("**/settings/apps?revoked=1")
                assert page.page.get_by_role("status").inner_text() == (
                    "The app's access is revoked."
                )
                gone = http.get("/api/v1/accounts/verify_credentials", headers=headers)
                assert gone.status_code == 401
        finally:
            context.close()


def test_out_of_band_shows_the_code(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = _register_app(web_instance, oob)
    state = _signed_up(browser, base_url, "oob")
    context = browser.new_context(base_url=base_url, storage_state=state, locale="en-US")
    try:
        page = watch(context.new_page())
        page.page.goto(_authorize_path(app, oob, lang="ja"))
        assert page.page.locator("html").get_attribute("lang") == "ja"  # from `lang`
        check_shown(page, axe_source, "oauth-consent-ja")
        page.page.locator("button[value=approve]").click()
        code = page.page.locator("#f-code").input_value()
        assert len(code) >= 40
        check_shown(page, axe_source, "oauth-code-ja")
    finally:
        context.close()
