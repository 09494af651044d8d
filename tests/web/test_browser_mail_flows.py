"""The mailed links in Chromium: sign up and confirm from the spool, reset a password."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path

from playwright.sync_api import Browser

from stgy.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import LiveInstance, unique_handle
from tests.integration.mail_support import read_spool
from tests.web.conftest import (
    SIZES_AND_SCHEMES,
    api_follow,
    check_shown,
    log_in,
    new_context,
    sign_up,
    watch,
)

_LINK = re.compile(r"https?://\S+")


def _spool(instance: LiveInstance) -> Path:
    return instance.config.mail_spool_path


def wait_for_mail(instance: LiveInstance, to: str, subject_has: str) -> EmailMessage:
    """The newest mail to `to` whose subject has `subject_has`, once the worker sent it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [
            message
            for message in read_spool(_spool(instance))
            if message["To"] == to and subject_has in str(message["Subject"])
        ]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} about {subject_has!r}")


def link_in(message: EmailMessage, path: str) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    for link in _LINK.findall(body.get_content()):
        if path in link:
            return str(link)
    raise AssertionError(f"no {path} link in the mail")


def test_sign_up_and_confirm_from_the_mail(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    handle = unique_handle("confirm")
    context = new_context(browser, base_url)
    try:
        page = watch(context.new_page())
        sign_up(page.page, handle)
        message = wait_for_mail(web_instance, f"{handle}@example.com", "Confirm your email")
        link = link_in(message, "/auth/confirm-email?token=")
        # The link itself changes nothing (scanners open links): its page has a button.
        response = page.page.goto(link.replace(web_instance.config.instance.base_url, ""))
        assert response is not None and response.status == 200
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        check_shown(page, axe_source, "confirm-email-desktop-light")
        page.page.get_by_role("button", name="Confirm").click()
        page.page.get_by_text(f"{handle}@example.com is confirmed").wait_for()
        check_shown(page, axe_source, "confirm-email-done-desktop-light")
        # Used once: the same link again says so.
        page.page.goto(link)
        page.page.get_by_role("button", name="Confirm").click()
        page.page.get_by_text("already used").wait_for()
        assert page.page.get_by_text("is confirmed").count() == 0
    finally:
        context.close()


def test_reset_a_forgotten_password(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    handle = unique_handle("reset")
    context = new_context(browser, base_url)
    try:
        page = watch(context.new_page())
        sign_up(page.page, handle)
        page.page.get_by_role("navigation", name="Site").get_by_role(
            "button", name="Log out"
        ).click()
        page.page.goto("/auth/login")
        page.page.get_by_role("link", name="Forgot your password?").click()
        page.page.wait_for_url("**/auth/reset-password")
        check_shown(page, axe_source, "password-reset-request-desktop-light")
        page.page.get_by_label("User name or email").fill(handle)
        page.page.get_by_role("button", name="Send the link").click()
        page.page.get_by_role("heading", name="Check your mail").wait_for()
        check_shown(page, axe_source, "password-reset-sent-desktop-light")
        message = wait_for_mail(web_instance, f"{handle}@example.com", "password")
        page.page.goto(link_in(message, "/auth/reset-password?token="))
        check_shown(page, axe_source, "password-reset-desktop-light")
        # Too short: the error shows next to the field, the form stays.
        page.page.get_by_label("New password").fill("short")
        page.page.get_by_role("button", name="Set the password").click()
        page.page.get_by_text("Use at least").wait_for()
        new_password = "another long password 9"
        page.page.get_by_label("New password").fill(new_password)
        page.page.get_by_role("button", name="Set the password").click()
        page.page.get_by_role("heading", name="Password changed").wait_for()
        check_shown(page, axe_source, "password-reset-done-desktop-light")
        log_in(page.page, handle, new_password)
        nav = page.page.get_by_role("navigation", name="Site")
        assert nav.get_by_role("button", name="Log out").count() == 1
    finally:
        context.close()


def test_mail_pages_in_every_size_and_scheme(
    browser: Browser, base_url: str, axe_source: str
) -> None:
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            page = watch(context.new_page())
            for name, path in (
                ("password-reset-request", "/auth/reset-password"),
                ("password-reset", "/auth/reset-password?token=x"),
                ("confirm-email", "/auth/confirm-email?token=x"),
            ):
                response = page.page.goto(path)
                assert response is not None and response.status == 200
                check_shown(page, axe_source, f"{name}-{size}-{scheme}")
            response = page.page.goto("/mail/unsubscribe?token=1.follow.forged")
            assert response is not None and response.status == 400
            page.errors.clear()  # the 400 itself
            check_shown(page, axe_source, f"unsubscribe-bad-{size}-{scheme}")
        finally:
            context.close()


def test_stop_follower_mails_from_the_mail(
    browser: Browser, base_url: str, web_instance: LiveInstance, axe_source: str
) -> None:
    handle = unique_handle("unsub")
    context = new_context(browser, base_url)
    try:
        page = watch(context.new_page())
        sign_up(page.page, handle)
        page.page.goto("/settings/notifications")
        page.page.get_by_label("someone follows me").check()
        page.page.get_by_role("button", name="Save").click()
        page.page.get_by_text("Saved.").wait_for()
        api_follow(web_instance, handle)
        message = wait_for_mail(web_instance, f"{handle}@example.com", "now follows you")
        assert "/api/mail/unsubscribe?token=" in str(message["List-Unsubscribe"])
        link = link_in(message, "/mail/unsubscribe?token=")
        assert "/api/" not in link
        page.page.goto(link)
        page.page.get_by_text("Stop the mails about new followers?").wait_for()
        check_shown(page, axe_source, "unsubscribe-desktop-light")
        page.page.get_by_role("button", name="Stop these mails").click()
        page.page.get_by_text("You will no longer get mails about new followers.").wait_for()
        check_shown(page, axe_source, "unsubscribe-done-desktop-light")
        page.page.goto("/settings/notifications")
        assert not page.page.get_by_label("someone follows me").is_checked()
    finally:
        context.close()
