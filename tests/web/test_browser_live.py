"""Live updates in Chromium: the home page's "new posts" bar and the header's unread count,
fed by /stream from the live instance's worker (fan-out and notifications)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    api_follow,
    check_shown,
    new_context,
    sign_up,
    watch,
)


def _api_author(instance: LiveInstance) -> tuple[str, dict[str, str]]:
    """An author registered through the API: its handle and bearer header."""
    handle = unique_handle("liveauthor")
    password = "live author password 12"
    with httpx.Client(base_url=instance.url) as http:
        made = http.post(
            "/api/accounts",
            json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
        )
        assert made.status_code == 201, made.text
        login = http.post("/api/auth/login", json={"handle": handle, "password": password})
        assert login.status_code == 200, login.text
    return handle, {"Authorization": f"Bearer {login.json()['token']}"}


def _api_post(instance: LiveInstance, auth: dict[str, str], text: str) -> str:
    with httpx.Client(base_url=instance.url) as http:
        made = http.post("/api/posts", json={"text": text}, headers=auth)
        assert made.status_code == 201, made.text
    post_id: str = made.json()["id"]
    return post_id


def test_new_posts_bar_and_live_unread_count(
    browser: Browser, base_url: str, axe_source: str, web_instance: LiveInstance
) -> None:
    author, auth = _api_author(web_instance)
    earlier = _api_post(web_instance, auth, "An earlier post, already on home")
    reader = unique_handle("livereader")
    context = new_context(browser, base_url)
    try:
        watched = watch(context.new_page())
        page = watched.page
        sign_up(page, reader)
        page.goto(f"/@{author}")
        page.get_by_role("button", name="Follow", exact=True).click()
        expect(page.locator(".profile-actions")).to_contain_text("You follow this account.")

        # Home, once the follow's backfill has put the earlier post there.
        page.goto("/")
        first = page.locator(".timeline article.post").first
        for _ in range(30):
            if first.get_attribute("id") == f"post-{earlier}":
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(first).to_have_id(f"post-{earlier}")
        expect(page.locator(".nav-count")).to_have_count(0)
        page.evaluate("() => { window.stillHere = true; }")
        top = first.bounding_box()
        assert top is not None

        fresh = _api_post(web_instance, auth, "Fresh off the press, live")
        button = page.get_by_role("button", name="1 new post")
        expect(button).to_be_visible(timeout=20_000)
        bar = page.locator("#new-posts")
        assert bar.get_attribute("aria-live") == "polite"
        # Nothing moved: the same post on top, at the same place; the new one not shown.
        expect(first).to_have_id(f"post-{earlier}")
        assert first.bounding_box() == top
        expect(page.locator(f"#post-{fresh}")).to_have_count(0)

        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                check_shown(watched, axe_source, f"live-bar-{size}-{scheme}")
        page.set_viewport_size(DESKTOP)
        page.emulate_media(color_scheme="light")

        # The click loads the new post in place, on top; the bar goes.
        button.click()
        expect(first).to_have_id(f"post-{fresh}")
        expect(first).to_contain_text("Fresh off the press, live")
        expect(page.locator(f"#post-{earlier}")).to_have_count(1)
        expect(page.locator("#new-posts button")).to_have_count(0)
        expect(first).to_be_focused()
        assert page.evaluate("() => window.stillHere === true")  # no page load

        # A new follower: the header's unread count goes up without a reload.
        api_follow(web_instance, reader)
        expect(page.locator("a[href='/notifications'] .nav-count")).to_contain_text(
            "1", timeout=20_000
        )
        assert page.evaluate("() => window.stillHere === true")
        check_shown(watched, axe_source, "live-after-desktop-light")
    finally:
        context.close()
