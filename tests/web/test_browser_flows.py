"""Flows in Chromium: sign up, log out, log in; in place with htmx and without JavaScript;
CSRF and cross-site refusals as a browser meets them."""

from __future__ import annotations

from playwright.sync_api import Browser, Request, expect

from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import (
    PASSWORD,
    Watched,
    log_in,
    new_context,
    screenshot,
    sign_up,
    watch,
)


def _log_out(watched: Watched) -> None:
    watched.page.get_by_role("banner").get_by_role("button", name="Log out").click()
    watched.page.wait_for_url("**/")
    assert watched.page.get_by_role("link", name="Create account").count() == 1


def test_sign_up_log_out_log_in(page: Watched, base_url: str) -> None:
    handle = unique_handle("flow")
    sign_up(page.page, handle)
    assert page.page.get_by_text(f"@{handle}@").count() == 1
    assert page.page.get_by_text("Confirm your email address").count() == 1
    cookies = {cookie["name"]: cookie for cookie in page.page.context.cookies()}
    session = cookies["stgy_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]
    assert cookies["stgy_csrf"]["httpOnly"]
    _log_out(page)
    log_in(page.page, handle)
    assert page.page.get_by_text(f"@{handle}@").count() == 1
    _log_out(page)
    assert page.violations == [] and page.errors == []


def test_form_errors_come_in_place_with_htmx(page: Watched) -> None:
    sent: list[Request] = []
    page.page.on(
        "request", lambda request: sent.append(request) if request.method == "POST" else None
    )
    page.page.goto("/auth/signup")
    assert page.page.evaluate("() => typeof htmx") == "object"
    page.page.evaluate("() => { window.samePage = true; }")
    page.page.get_by_label("User name", exact=True).fill(unique_handle("short"))
    page.page.get_by_label("Email").fill("short@example.com")
    page.page.get_by_label("Password").fill("short")
    page.page.get_by_role("button", name="Create account").click()
    error = page.page.locator("#f-password-error")
    error.wait_for()
    assert error.inner_text() == "Use at least 8 characters."
    assert page.page.evaluate("() => window.samePage") is True  # no page load
    # Focus moves once htmx has settled the swap (a moment after the error shows).
    expect(page.page.locator("#f-password")).to_be_focused()
    assert page.page.locator("#f-password").get_attribute("aria-invalid") == "true"
    assert sent and sent[-1].headers.get("hx-request") == "true"
    token = page.page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert sent[-1].headers.get("x-csrf-token") == token
    screenshot(page.page, "signup-errors-desktop-light")
    assert page.violations == [] and page.errors == []


def test_without_javascript(browser: Browser, base_url: str) -> None:
    context = new_context(browser, base_url, javascript=False)
    try:
        page = watch(context.new_page())
        for path, heading in (("/", None), ("/about", "About"), ("/auth/login", "Log in")):
            page.page.goto(path)
            assert page.page.locator("main h1").is_visible()
            if heading:
                assert heading in page.page.locator("main h1").inner_text()
        # A form error is a whole page, with its status.
        page.page.goto("/auth/signup")
        page.page.get_by_label("User name", exact=True).fill("bad handle!")
        page.page.get_by_label("Email").fill("bad@example.com")
        page.page.get_by_label("Password").fill(PASSWORD)
        with page.page.expect_response("**/auth/signup") as answer:
            page.page.get_by_role("button", name="Create account").click()
        assert answer.value.status == 400
        assert page.page.locator("#f-handle-error").is_visible()
        screenshot(page.page, "signup-errors-nojs-phone-light")
        handle = unique_handle("nojs")
        sign_up(page.page, handle)
        assert page.page.get_by_text(f"@{handle}@").count() == 1
        _log_out(page)
        log_in(page.page, handle)
        _log_out(page)
        assert page.violations == []
    finally:
        context.close()


def test_csrf_refused_in_the_browser(
    browser: Browser, base_url: str, web_instance: LiveInstance
) -> None:
    context = new_context(browser, base_url, javascript=False)
    try:
        page = watch(context.new_page())
        page.page.goto("/auth/login")
        # A form whose token was taken away: refused with a page that says why.
        page.page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")
        page.page.get_by_label("User name or email").fill("someone")
        page.page.get_by_label("Password").fill(PASSWORD)
        with page.page.expect_response("**/auth/login") as answer:
            page.page.get_by_role("main").get_by_role("button", name="Log in").click()
        assert answer.value.status == 403
        assert (
            page.page.get_by_text("This form has expired or was not sent from this site").count()
            == 1
        )
        screenshot(page.page, "csrf-refused-desktop-light")
        # Straight requests without a token: refused too.
        response = context.request.post(f"{web_instance.url}/auth/logout", form={"x": "1"})
        assert response.status == 403
    finally:
        context.close()


def test_csrf_refused_for_htmx_without_its_header(page: Watched) -> None:
    page.page.goto("/auth/login")
    page.page.evaluate(
        "() => { document.querySelector('meta[name=csrf-token]').content = 'forged';"
        " document.querySelector('input[name=csrf_token]').value = 'forged'; }"
    )
    page.page.get_by_label("User name or email").fill("someone")
    page.page.get_by_label("Password").fill(PASSWORD)
    page.page.get_by_role("main").get_by_role("button", name="Log in").click()
    flash = page.page.locator("#flash")
    flash.get_by_text("This form has expired").wait_for()
    assert page.page.locator("#login-form").count() == 1  # the form stays as it was


def test_a_form_on_another_site_is_refused(page: Watched, base_url: str) -> None:
    handle = unique_handle("victim")
    sign_up(page.page, handle)
    token = page.page.locator('meta[name="csrf-token"]').get_attribute("content")
    # Even with a valid token, a post from another site does not log the member out.
    # (Not from a page of ours at another address: our CSP's form-action stops that.)
    page.page.goto("about:blank")
    page.page.set_content(
        f'<form method="post" action="{base_url}/auth/logout">'
        f'<input type="hidden" name="csrf_token" value="{token}">'
        '<button type="submit">Win a prize</button></form>'
    )
    with page.page.expect_response("**/auth/logout") as answer:
        page.page.get_by_role("button", name="Win a prize").click()
    assert answer.value.status == 403
    page.page.goto("/")
    assert page.page.get_by_text(f"@{handle}@").count() == 1
