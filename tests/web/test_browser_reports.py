"""Reports in Chromium: a member reports a post from its menu (with and without
JavaScript), a moderator reads the list and the report, writes a note and resolves it;
the dashboard and the audit log. Each page on a phone and a desktop, checked with
axe-core, the CSP and screenshots."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import (
    DESKTOP,
    PASSWORD,
    PHONE,
    check_shown,
    log_in,
    new_context,
    watch,
)

# Where axe runs (check_shown): the phone in light, the desktop in dark.
SIZES = [("phone", PHONE, "light"), ("desktop", DESKTOP, "dark")]


def _user(instance: LiveInstance, prefix: str, role: str = "user") -> str:
    """An approved account made with `stgy users create`, with the tests' password."""
    handle = unique_handle(prefix)
    made = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "stgy", "users", "create", handle, "--email",
         f"{handle}@example.com", "--password", PASSWORD, "--role", role],
        env=instance.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return handle


@pytest.fixture(scope="module")
def cast(web_instance: LiveInstance) -> Iterator[dict[str, Any]]:
    """A member, the author of a post to report, a moderator and an admin."""
    author = _user(web_instance, "loud")
    with httpx.Client(base_url=web_instance.url, timeout=10) as http:
        token = http.post("/api/auth/login", json={"handle": author, "password": PASSWORD}).json()[
            "token"
        ]
        post = http.post(
            "/api/posts",
            json={"text": "Buy my course: *get rich* in a week!"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    yield {
        "member": _user(web_instance, "member"),
        "author": author,
        "post": post,
        "moderator": _user(web_instance, "mod", "moderator"),
        "admin": _user(web_instance, "boss", "admin"),
    }


def test_member_reports_a_post(
    browser: Browser, base_url: str, axe_source: str, cast: dict[str, Any]
) -> None:
    post_id = cast["post"]["id"]
    for size, viewport, scheme in SIZES:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            page = watch(context.new_page())
            log_in(page.page, cast["member"])
            page.page.goto(f"/@{cast['author']}/{post_id}")
            bar = page.page.locator(f"#post-{post_id} .post-actions")
            bar.locator("summary", has_text="More actions").click()
            bar.get_by_role("link", name="Report").click()
            page.page.wait_for_url(f"**/report?account=*&post={post_id}")
            expect(page.page.get_by_label("Posted", exact=False)).to_be_checked()
            check_shown(page, axe_source, f"report-form-{size}-{scheme}")
            page.page.get_by_label("Spam: advertising").check()
            page.page.get_by_label("Anything the moderators should know").fill(
                f"Spam seen on a {size}."
            )
            page.page.get_by_role("button", name="Send report").click()
            page.page.wait_for_url("**/report/sent?forwarded=0")
            check_shown(page, axe_source, f"report-sent-{size}-{scheme}")
        finally:
            context.close()


def test_report_form_without_javascript(
    browser: Browser, base_url: str, cast: dict[str, Any]
) -> None:
    context = new_context(browser, base_url, javascript=False)
    try:
        page = watch(context.new_page())
        log_in(page.page, cast["member"])
        page.page.goto(f"/@{cast['author']}")
        page.page.get_by_role("link", name="Report", exact=True).first.click()
        page.page.wait_for_url("**/report?account=*")
        page.page.get_by_label("Anything the moderators should know").fill("x" * 1001)
        page.page.get_by_role("button", name="Send report").click()
        expect(page.page.locator("#f-comment-error")).to_be_visible()
        page.page.get_by_label("Something else").check()
        page.page.get_by_label("Anything the moderators should know").fill("The profile itself.")
        page.page.get_by_role("button", name="Send report").click()
        page.page.wait_for_url("**/report/sent?forwarded=0")
        assert page.violations == [] and page.errors == [], page.errors
    finally:
        context.close()


def test_moderator_handles_the_report(
    browser: Browser, base_url: str, axe_source: str, cast: dict[str, Any]
) -> None:
    for size, viewport, scheme in SIZES:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            page = watch(context.new_page())
            log_in(page.page, cast["moderator"])
            page.page.get_by_role("link", name="Moderation").click()
            page.page.wait_for_url("**/admin/")
            expect(page.page.get_by_text("Open reports")).to_be_visible()
            check_shown(page, axe_source, f"admin-dashboard-{size}-{scheme}")
            page.page.get_by_role("navigation", name="Moderation").get_by_role(
                "link", name="Reports"
            ).click()
            page.page.wait_for_url("**/admin/reports")
            check_shown(page, axe_source, f"admin-reports-{size}-{scheme}")
            page.page.locator(".report-row", has_text=f"Spam seen on a {size}.").get_by_role(
                "link"
            ).click()
            page.page.wait_for_url("**/admin/reports/*")
            expect(page.page.locator("article.reported")).to_contain_text("get rich")
            check_shown(page, axe_source, f"admin-report-{size}-{scheme}")
            page.page.get_by_label("Note for the other moderators").fill(f"Checked on a {size}.")
            page.page.get_by_role("button", name="Add note").click()
            page.page.wait_for_url("**/admin/reports/*?saved=1")
            expect(page.page.locator(".note-list")).to_contain_text(f"Checked on a {size}.")
            page.page.get_by_label("Comment (optional)").fill("The author was warned.")
            page.page.get_by_role("button", name="Resolve report").click()
            page.page.wait_for_url("**/admin/reports/*?saved=1")
            expect(page.page.get_by_role("button", name="Reopen report")).to_be_visible()
            check_shown(page, axe_source, f"admin-report-resolved-{size}-{scheme}")
        finally:
            context.close()


def test_admin_reads_the_audit_log(
    browser: Browser, base_url: str, axe_source: str, cast: dict[str, Any]
) -> None:
    for size, viewport, scheme in SIZES:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            page = watch(context.new_page())
            log_in(page.page, cast["admin"])
            page.page.goto("/admin/audit")
            page.page.get_by_label("Who").fill(cast["moderator"])
            page.page.get_by_role("button", name="Filter").click()
            page.page.wait_for_url(f"**/admin/audit?actor={cast['moderator']}*")
            expect(page.page.locator(".audit-list code").first).to_have_text("report.resolve")
            check_shown(page, axe_source, f"admin-audit-{size}-{scheme}")
        finally:
            context.close()
    # A moderator may not read it.
    context = new_context(browser, base_url)
    try:
        page = context.new_page()
        log_in(page, cast["moderator"])
        response = page.goto("/admin/audit")
        assert response is not None and response.status == 403
    finally:
        context.close()
