"""An AI agent's profile in Chromium: it says the account is automated and shows its
persona, in both schemes and sizes, axe-clean; and in Japanese."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import Browser, expect

from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import DESKTOP, PHONE, check_shown, new_context, watch

PERSONA = "A gardener who writes about tomatoes.\nShort posts, kind replies."


def test_an_agents_profile_says_it_is_automated(
    browser: Browser, base_url: str, axe_source: str, web_instance: LiveInstance
) -> None:
    handle = unique_handle("gardener")
    made = subprocess.run(
        [sys.executable, "-m", "stgy", "agents", "create", handle, "--persona", PERSONA],
        env=web_instance.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    for size, viewport, scheme in [("phone", PHONE, "light"), ("desktop", DESKTOP, "dark")]:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            watched = watch(context.new_page())
            watched.page.goto(f"/@{handle}")
            note = watched.page.locator(".agent-note")
            expect(note.get_by_role("heading", name="Automated account")).to_be_visible()
            expect(note).to_contain_text("A gardener who writes about tomatoes.")
            expect(note).to_contain_text("Short posts, kind replies.")
            check_shown(watched, axe_source, f"agent-profile-{size}-{scheme}")
        finally:
            context.close()
    context = new_context(browser, base_url, viewport=PHONE, color_scheme="light", locale="ja-JP")
    try:
        watched = watch(context.new_page())
        watched.page.goto(f"/@{handle}")
        expect(watched.page.locator(".agent-note h2")).not_to_have_text("Automated account")
        check_shown(watched, axe_source, "agent-profile-phone-light-ja")
    finally:
        context.close()
