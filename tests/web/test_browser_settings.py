"""Settings and notifications in Chromium: every section's form, without JavaScript needs."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext

from stgy.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import (
    PASSWORD,
    PHONE,
    SIZES_AND_SCHEMES,
    Watched,
    api_follow,
    check_shown,
    log_in,
    new_context,
    screenshot,
    sign_up,
    watch,
)
from tests.web.test_browser_mail_flows import link_in, wait_for_mail

SECTIONS = ("profile", "password", "email", "notifications", "sessions", "language", "delete")


@pytest.fixture(scope="module")
def member(browser: Browser, base_url: str) -> Iterator[dict[str, Any]]:
    """A member signed up through the form, with their browser's cookies."""
    handle = unique_handle("settings")
    context = new_context(browser, base_url)
    sign_up(context.new_page(), handle)
    state: dict[str, Any] = dict(context.storage_state())
    context.close()
    yield {"handle": handle, "state": state}


def _member_context(browser: Browser, base_url: str, member: dict[str, Any], **kw: Any) -> Any:
    return browser.new_context(
        base_url=base_url, storage_state=member["state"], **{"locale": "en-US", **kw}
    )


def test_every_section_in_every_size_and_scheme(
    browser: Browser, base_url: str, axe_source: str, member: dict[str, Any]
) -> None:
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = _member_context(browser, base_url, member, viewport=viewport, color_scheme=scheme)
        try:
            page = watch(context.new_page())
            for section in (*SECTIONS, "../notifications"):
                response = page.page.goto(f"/settings/{section}")
                assert response is not None and response.status == 200, section
                assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                name = "notifications-page" if section.startswith("..") else f"settings-{section}"
                check_shown(page, axe_source, f"{name}-{size}-{scheme}")
        finally:
            context.close()


def test_settings_need_a_login(page: Watched) -> None:
    page.page.goto("/settings/password")
    page.page.wait_for_url("**/auth/login?next=/settings/password")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_profile_without_javascript(browser: Browser, base_url: str) -> None:
    context = new_context(browser, base_url, javascript=False)
    try:
        page = watch(context.new_page())
        handle = unique_handle("profile")
        sign_up(page.page, handle)
        page.page.goto("/settings/profile")
        page.page.get_by_label("Bio").fill("A" * 2001)
        page.page.get_by_role("button", name="Save").click()
        assert page.page.locator("#f-bio-error").count() == 1
        page.page.get_by_label("Display name").fill("Kumiko Web")
        page.page.get_by_label("Bio").fill("I like *trains*.")
        page.page.get_by_label("Label 1").fill("Site")
        page.page.get_by_label("Value 1").fill("https://example.com/")
        page.page.get_by_label("Avatar").set_input_files(
            files=[{"name": "me.png", "mimeType": "image/png", "buffer": _png()}]
        )
        page.page.get_by_label("Approve followers by hand").check()
        page.page.get_by_label("This is an automated account").check()
        page.page.get_by_role("button", name="Save").click()
        page.page.get_by_text("Saved.").wait_for()
        assert page.page.get_by_label("Display name").input_value() == "Kumiko Web"
        assert page.page.get_by_label("Value 1").input_value() == "https://example.com/"
        assert page.page.get_by_label("Approve followers by hand").is_checked()
        assert page.page.get_by_label("This is an automated account").is_checked()
        avatar = page.page.get_by_role("img", name="Your current avatar")
        assert avatar.count() == 1
        assert avatar.evaluate("img => img.complete && img.naturalWidth > 0")
        screenshot(page.page, "settings-profile-saved-desktop-light")
        assert page.violations == [] and page.errors == []
    finally:
        context.close()


def test_password_email_and_mail_settings(
    browser: Browser, base_url: str, web_instance: LiveInstance
) -> None:
    context = new_context(browser, base_url)
    try:
        page = watch(context.new_page())
        handle = unique_handle("pw")
        sign_up(page.page, handle)
        page.page.goto("/settings/password")
        page.page.get_by_label("Current password").fill("not it at all")
        page.page.get_by_label("New password").fill("a brand new password 5")
        page.page.get_by_role("button", name="Change password").click()
        page.page.locator("#f-current_password-error").wait_for()
        page.page.get_by_label("Current password").fill(PASSWORD)
        page.page.get_by_label("New password").fill("a brand new password 5")
        page.page.get_by_role("button", name="Change password").click()
        page.page.get_by_text("Saved.").wait_for()

        page.page.goto("/settings/email")
        page.page.get_by_label("New email address").fill(f"{handle}.new@example.com")
        page.page.get_by_label("Password").fill("a brand new password 5")
        page.page.get_by_role("button", name="Change address").click()
        page.page.get_by_text(f"Waiting for confirmation: {handle}.new@example.com").wait_for()
        message = wait_for_mail(web_instance, f"{handle}.new@example.com", "new email")
        page.page.goto(link_in(message, "/auth/confirm-email?token="))
        page.page.get_by_role("button", name="Confirm").click()
        page.page.get_by_text(f"Your email address is now {handle}.new@example.com").wait_for()
        page.page.goto("/settings/email")
        assert page.page.get_by_text(f"Your address: {handle}.new@example.com").count() == 1

        page.page.goto("/settings/notifications")
        mentions = page.page.get_by_label("someone mentions me").is_checked()
        page.page.get_by_label("someone follows me").uncheck()
        page.page.get_by_role("button", name="Save").click()
        page.page.get_by_text("Saved.").wait_for()
        assert not page.page.get_by_label("someone follows me").is_checked()
        assert page.page.get_by_label("someone mentions me").is_checked() == mentions
        assert page.violations == [] and page.errors == []
    finally:
        context.close()


def test_end_another_session_and_choose_japanese(browser: Browser, base_url: str) -> None:
    first = new_context(browser, base_url)
    second: BrowserContext = new_context(browser, base_url)
    try:
        page = watch(first.new_page())
        handle = unique_handle("sess")
        sign_up(page.page, handle)
        other = second.new_page()
        log_in(other, handle)
        page.page.goto("/settings/sessions")
        assert page.page.locator(".session-list > li").count() == 2
        page.page.get_by_role("button", name="End this session").click()
        page.page.get_by_text("The session is ended.").wait_for()
        assert page.page.locator(".session-list > li").count() == 1
        other.goto("/settings/sessions")
        other.wait_for_url("**/auth/login?next=/settings/sessions")

        page.page.goto("/settings/language")
        page.page.get_by_label("日本語").check()
        page.page.get_by_role("button", name="Save").click()
        page.page.get_by_role("heading", name="言語").wait_for()
        assert page.page.locator("html").get_attribute("lang") == "ja"
        screenshot(page.page, "settings-language-desktop-light-ja")
        page.page.get_by_label("ブラウザの言語").check()
        page.page.get_by_role("button", name="保存").click()
        page.page.get_by_role("heading", name="Language").wait_for()
        assert page.violations == [] and page.errors == []
    finally:
        first.close()
        second.close()


def test_delete_the_account(browser: Browser, base_url: str) -> None:
    context = new_context(browser, base_url)
    try:
        page = watch(context.new_page())
        handle = unique_handle("bye")
        sign_up(page.page, handle)
        page.page.goto("/settings/delete")
        page.page.get_by_label("Password").fill("wrong password here")
        page.page.get_by_role("button", name="Delete my account").click()
        assert page.page.locator("#f-password-error").count() == 1
        page.page.get_by_label("Password").fill(PASSWORD)
        page.page.get_by_role("button", name="Delete my account").click()
        page.page.wait_for_url("**/?deleted=1")
        assert page.page.get_by_role("link", name="Log in").count() >= 1
        page.page.goto("/auth/login")
        page.page.get_by_label("User name or email").fill(handle)
        page.page.get_by_label("Password").fill(PASSWORD)
        page.page.get_by_role("main").get_by_role("button", name="Log in").click()
        page.page.locator(".form-error").wait_for()
    finally:
        context.close()


def test_notifications_and_the_unread_count(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    context = new_context(browser, base_url)
    try:
        page = watch(context.new_page())
        handle = unique_handle("notified")
        sign_up(page.page, handle)
        api_follow(web_instance, handle)
        nav = page.page.get_by_role("navigation", name="Site")
        deadline = time.monotonic() + 20
        while nav.get_by_role("link", name="Notifications 1 unread").count() == 0:
            assert time.monotonic() < deadline, "no unread count in the header"
            time.sleep(0.3)
            page.page.reload()
        screenshot(page.page, "header-unread-desktop-light")
        page.page.get_by_role("link", name="Notifications 1 unread").click()
        page.page.get_by_text("followed you").wait_for()
        assert page.page.locator(".notification.unread").count() == 1
        check_shown(page, axe_source, "notifications-desktop-light")
        # Seen: read now, and the header says so.
        page.page.reload()
        assert page.page.locator(".notification.unread").count() == 0
        assert nav.get_by_role("link", name="Notifications", exact=True).count() == 1
    finally:
        context.close()


def test_settings_in_japanese_on_a_phone(
    browser: Browser, base_url: str, axe_source: str, member: dict[str, Any]
) -> None:
    context = _member_context(
        browser,
        base_url,
        member,
        viewport=PHONE,
        locale="ja-JP",
        extra_http_headers={"Accept-Language": "ja"},
    )
    try:
        page = watch(context.new_page())
        for section in ("profile", "email", "sessions"):
            page.page.goto(f"/settings/{section}")
            assert page.page.locator("html").get_attribute("lang") == "ja"
            check_shown(page, axe_source, f"settings-{section}-phone-light-ja")
        page.page.goto("/notifications")
        check_shown(page, axe_source, "notifications-page-phone-light-ja")
    finally:
        context.close()
