"""/admin/accounts and an account's page in Chromium, phone and desktop, light and dark:
axe, no sideways scroll, the action form without JavaScript (issue 17A)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.conftest import LiveInstance, unique_handle
from tests.integration.test_cli import stgy
from tests.web.conftest import (
    SIZES_AND_SCHEMES,
    check_shown,
    new_context,
    sign_up,
    watch,
)


@pytest.fixture(scope="module")
def staff(browser: Browser, base_url: str, web_instance: LiveInstance) -> Iterator[dict[str, Any]]:
    """A moderator signed up through the form (made one by the CLI), and a member."""
    moderator, member = unique_handle("mod"), unique_handle("member")
    states = {}
    for handle in (moderator, member):
        context = new_context(browser, base_url)
        sign_up(context.new_page(), handle)
        states[handle] = context.storage_state()
        context.close()
    made = stgy("users", "role", moderator, "moderator", env=web_instance.env)
    assert made.returncode == 0, made.stderr
    with httpx.Client(base_url=web_instance.url) as http:
        found = http.get(f"/api/accounts/@{member}")
        assert found.status_code == 200, found.text
        member_id = found.json()["id"]
    yield {"moderator": moderator, "state": states[moderator], "member": member, "id": member_id}


def test_accounts_pages_in_every_size_and_scheme(
    browser: Browser, base_url: str, axe_source: str, staff: dict[str, Any]
) -> None:
    # An action first, so the account page shows a state and its history.
    context = browser.new_context(base_url=base_url, storage_state=staff["state"])
    try:
        page = context.new_page()
        page.goto(f"/admin/accounts/{staff['id']}")
        page.get_by_label("Limit (only followers see their posts)").check()
        page.get_by_role("textbox", name="Comment").fill("Posting too much in public.")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(f"**/admin/accounts/{staff['id']}?done=limit")
        assert page.get_by_role("status").inner_text().startswith("Done")
    finally:
        context.close()
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = browser.new_context(
            base_url=base_url,
            storage_state=staff["state"],
            viewport=viewport,  # type: ignore[arg-type]
            color_scheme=scheme,  # type: ignore[arg-type]
            locale="en-US",
        )
        try:
            watched = watch(context.new_page())
            response = watched.page.goto(f"/admin/accounts?q={staff['member']}")
            assert response is not None and response.status == 200
            assert watched.page.get_by_text(f"@{staff['member']}").count() == 1
            check_shown(watched, axe_source, f"admin-accounts-{size}-{scheme}")
            response = watched.page.goto(f"/admin/accounts/{staff['id']}")
            assert response is not None and response.status == 200
            assert watched.page.get_by_text("Posting too much in public.").count() == 1
            check_shown(watched, axe_source, f"admin-account-{size}-{scheme}")
        finally:
            context.close()


def test_the_action_form_works_without_javascript(
    browser: Browser, base_url: str, staff: dict[str, Any]
) -> None:
    context = browser.new_context(
        base_url=base_url, storage_state=staff["state"], java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"/admin/accounts/{staff['id']}")
        page.get_by_label("Warn (mail them the comment)").check()
        page.get_by_role("button", name="Apply").click()
        # No text: the page again, with the reason, nothing done.
        assert page.get_by_text("a warning needs its text").count() == 1
        page.get_by_role("textbox", name="Comment").fill("Please read the rules.")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**?done=warn")
        assert page.get_by_text("Please read the rules.").count() == 1
    finally:
        context.close()


def test_members_are_refused(browser: Browser, base_url: str) -> None:
    context = new_context(browser, base_url)
    try:
        page = context.new_page()
        sign_up(page, unique_handle("plain"))
        response = page.goto("/admin/accounts")
        assert response is not None and response.status == 403
    finally:
        context.close()
