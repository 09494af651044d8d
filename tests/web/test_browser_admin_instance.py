"""/admin/domains, /admin/rules and /admin/settings in Chromium (issue 17): every page
in phone and desktop sizes, both schemes, checked by axe; the forms used without
JavaScript, as an admin made with `stgy users create --role admin`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import (
    PASSWORD,
    PHONE,
    SIZES_AND_SCHEMES,
    check_shown,
    log_in,
    new_context,
    screenshot,
    watch,
)

PAGES = ("domains", "rules", "settings")


def stgy(instance: LiveInstance, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "stgy", *args],
        env=instance.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def admin(browser: Browser, base_url: str, web_instance: LiveInstance) -> Iterator[dict[str, Any]]:
    """An admin logged in (their cookies), and a few blocks and rules to show; the
    blocks, rules and settings are put back afterwards (the browser tests share one
    instance)."""
    handle = unique_handle("admin")
    stgy(web_instance, "users", "create", handle, "--email", f"{handle}@example.com",
         "--password", PASSWORD, "--role", "admin")  # fmt: skip
    stgy(web_instance, "domains", "block", "spam-farm.example", "--public-comment",
         "Sends spam to everyone, every hour, from thousands of accounts")  # fmt: skip
    stgy(web_instance, "domains", "block", "loud.example", "--severity", "silence",
         "--reject-media", "--obfuscate")  # fmt: skip
    stgy(web_instance, "rules", "add", "Be kind to each other.")
    stgy(web_instance, "rules", "add", "No advertising, spam or scams.")
    context = new_context(browser, base_url)
    log_in(context.new_page(), handle)
    state: dict[str, Any] = dict(context.storage_state())
    context.close()
    try:
        yield {"handle": handle, "state": state}
    finally:
        for domain in ("spam-farm.example", "loud.example", "nojs.example"):
            subprocess.run(  # noqa: S603 - our own CLI; a block the test removed is fine
                [sys.executable, "-m", "stgy", "domains", "unblock", domain],
                env=web_instance.env,
                capture_output=True,
                check=False,
            )
        for line in stgy(web_instance, "rules", "list").splitlines():
            rule_id = line.split("[", 1)[1].split("]", 1)[0]
            stgy(web_instance, "rules", "remove", rule_id)
        stgy(web_instance, "settings", "set", "--show-domain-blocks", "no",
             "--reset", "name", "--reset", "description", "--reset", "contact_email",
             "--reset", "registrations")  # fmt: skip


def _context(browser: Browser, base_url: str, admin: dict[str, Any], **kw: Any) -> Any:
    return browser.new_context(
        base_url=base_url, storage_state=admin["state"], **{"locale": "en-US", **kw}
    )


def test_admin_pages_in_every_size_and_scheme(
    browser: Browser, base_url: str, axe_source: str, admin: dict[str, Any]
) -> None:
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = _context(browser, base_url, admin, viewport=viewport, color_scheme=scheme)
        try:
            page = watch(context.new_page())
            for name in PAGES:
                response = page.page.goto(f"/admin/{name}")
                assert response is not None and response.status == 200, name
                check_shown(page, axe_source, f"admin-{name}-{size}-{scheme}")
            page.page.goto("/admin/domains")
            page.page.get_by_role("link", name="Edit the block of loud.example").click()
            page.page.wait_for_url("**/admin/domains/*")
            check_shown(page, axe_source, f"admin-domain-edit-{size}-{scheme}")
            # A refused form: the page again, the error beside the field.
            page.page.goto("/admin/domains")
            page.page.get_by_label("Domain", exact=True).fill("not a domain")
            page.page.get_by_role("button", name="Block", exact=True).click()
            field = page.page.get_by_label("Domain", exact=True)
            assert field.get_attribute("aria-invalid") == "true"
            check_shown(page, axe_source, f"admin-domains-error-{size}-{scheme}")
            page.page.goto("/about")
            check_shown(page, axe_source, f"about-rules-{size}-{scheme}")
        finally:
            context.close()


def test_admin_forms_without_javascript(
    browser: Browser, base_url: str, admin: dict[str, Any], web_instance: LiveInstance
) -> None:
    context = _context(browser, base_url, admin, java_script_enabled=False, viewport=PHONE)
    try:
        watched = watch(context.new_page())
        page = watched.page
        page.goto("/admin/domains")
        # A bad domain: the page again, the error next to the field.
        page.get_by_label("Domain", exact=True).fill("not a domain")
        page.get_by_role("button", name="Block", exact=True).click()
        assert page.get_by_label("Domain", exact=True).get_attribute("aria-invalid") == "true"
        screenshot(page, "admin-domains-error-nojs-phone")
        page.get_by_label("Domain", exact=True).fill("nojs.example")
        page.get_by_label("Limit: keep out of public timelines").check()
        page.get_by_label("Reject reports: ignore reports sent from it").check()
        page.get_by_label("Public reason").fill("Reports abuse")
        page.get_by_role("button", name="Block", exact=True).click()
        page.wait_for_url("**/admin/domains?saved=1")
        row = page.get_by_role("row").filter(has_text="nojs.example")
        assert "Limit" in row.inner_text() and "reject reports" in row.inner_text()
        page.get_by_role("link", name="Edit the block of nojs.example").click()
        page.get_by_label("Suspend: refuse everything, cut follows").check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/admin/domains?saved=1")
        assert "Suspend" in page.get_by_role("row").filter(has_text="nojs.example").inner_text()
        page.get_by_role("link", name="Edit the block of nojs.example").click()
        page.get_by_role("button", name="Lift the block of nojs.example").click()
        page.wait_for_url("**/admin/domains?saved=1")
        assert page.get_by_role("row").filter(has_text="nojs.example").count() == 0

        page.goto("/admin/rules")
        page.get_by_label("New rule").fill("Mark sensitive media.")
        page.get_by_role("button", name="Add rule").click()
        page.wait_for_url("**/admin/rules?saved=1")
        page.get_by_role("button", name="Move rule 3 up").click()
        page.wait_for_url("**/admin/rules?saved=1")
        assert page.get_by_label("Rule 2", exact=True).input_value() == "Mark sensitive media."
        page.get_by_label("Rule 2", exact=True).fill("")
        page.get_by_role("button", name="Save rule 2").click()
        assert page.get_by_label("Rule 2", exact=True).get_attribute("aria-invalid") == "true"
        screenshot(page, "admin-rules-error-phone")

        page.goto("/admin/settings")
        page.get_by_label("Name", exact=True).fill("Browser Town")
        # Registrations stay open: other browser tests sign up on this instance, and
        # the CLI's reset reaches the server's cached settings only within 5 s.
        assert page.get_by_label("Open to everyone").is_checked()
        page.get_by_label("List the domain blocks on the About page").check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/admin/settings?saved=1")
        page.goto("/about")
        assert page.get_by_role("heading", name="About Browser Town").count() == 1
        assert page.get_by_text("Sends spam to everyone").count() == 1
        assert page.get_by_text("Mark sensitive media.").count() == 1
        screenshot(page, "about-with-blocks-and-rules-nojs-phone")
    finally:
        context.close()
        stgy(web_instance, "settings", "set", "--reset", "name")


def test_a_member_is_refused_the_admin_pages(browser: Browser, base_url: str) -> None:
    context = new_context(browser, base_url)
    try:
        page = context.new_page()
        from tests.web.conftest import sign_up

        sign_up(page, unique_handle("member"))
        for name in PAGES:
            response = page.goto(f"/admin/{name}")
            assert response is not None and response.status == 403, name
    finally:
        context.close()
