"""Follow requests, search and remote interaction in Chromium, across two live instances:
the browser tests' own (`web.localhost:<port>`) and a second one of this module's
(`far.localhost:<port>`), each with its server, worker and database, federating over
loopback. Each page checked with axe-core, the CSP and screenshots in every size and
colour scheme."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from storage import db
from tests.conftest import (
    RUN_ID,
    LiveInstance,
    create_migrated_database,
    start_live_instance,
    stop_processes,
    unique_handle,
)
from tests.web.conftest import (
    PASSWORD,
    SIZES_AND_SCHEMES,
    Watched,
    check_shown,
    new_context,
    sign_up,
    watch,
)

# Started before the module's browser: Playwright's sync API then holds this thread's
# event loop, and an async fixture set up later could not run.
pytestmark = pytest.mark.usefixtures("far_instance")


@pytest.fixture(scope="session")
async def far_instance(tmp_root: Path) -> AsyncIterator[LiveInstance]:
    """A second live instance, for federation seen from the browser."""
    url = await create_migrated_database(f"stgy_test_{RUN_ID}_far")
    instance = start_live_instance(url, tmp_root, "far")
    yield instance
    stop_processes(instance.server, instance.worker)
    await db.drop_database(url)


def _api(instance: LiveInstance, handle: str) -> httpx.Client:
    """An API client of `handle` (made in the browser, with the tests' password)."""
    http = httpx.Client(base_url=instance.url, timeout=10)
    login = http.post("/api/auth/login", json={"handle": handle, "password": PASSWORD})
    assert login.status_code == 200, login.text
    http.headers["Authorization"] = f"Bearer {login.json()['token']}"
    return http


def _register(instance: LiveInstance, prefix: str, name: str) -> tuple[str, httpx.Client]:
    """A new account of `instance` (through its API); its handle and API client."""
    handle = unique_handle(prefix)
    with httpx.Client(base_url=instance.url, timeout=10) as http:
        made = http.post(
            "/api/accounts",
            json={
                "handle": handle,
                "display_name": name,
                "password": PASSWORD,
                "email": f"{handle}@example.com",
            },
        )
        assert made.status_code == 201, made.text
    return handle, _api(instance, handle)


def _every_size(watched: Watched, axe_source: str, name: str) -> None:
    """The page now shown, checked in each size and colour scheme (reloaded in each)."""
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        watched.page.set_viewport_size(viewport)  # type: ignore[arg-type]
        watched.page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        watched.page.reload()
        check_shown(watched, axe_source, f"{name}-{size}-{scheme}")


def _until(page: Page, check: Any, timeout: float = 30.0) -> None:
    """Reload until `check(page)` holds: federation happens in the workers."""
    deadline = time.monotonic() + timeout
    while not check(page):
        assert time.monotonic() < deadline, f"not reached in time: {page.url}"
        page.wait_for_timeout(500)
        page.reload()


def test_follow_a_locked_account_accepted_on_follow_requests(
    browser: Browser, base_url: str, axe_source: str
) -> None:
    owner, fan = unique_handle("owner"), unique_handle("fan")
    owner_context = new_context(browser, base_url)
    fan_context = new_context(browser, base_url)
    try:
        mine = watch(owner_context.new_page())
        sign_up(mine.page, owner)
        mine.page.goto("/settings/profile")
        mine.page.get_by_label("Approve followers by hand").check()
        mine.page.get_by_role("button", name="Save").click()
        mine.page.wait_for_url("**/settings/profile?saved=1")

        theirs = watch(fan_context.new_page())
        sign_up(theirs.page, fan)
        theirs.page.goto(f"/@{owner}")
        theirs.page.get_by_role("button", name="Follow", exact=True).click()
        expect(theirs.page.locator(".profile-actions")).to_contain_text(
            "Follow request sent: waiting for approval."
        )

        # The owner sees the count in the header, and the request on its page.
        mine.page.goto("/")
        link = mine.page.get_by_role("link", name="Follow requests 1 pending")
        expect(link).to_be_visible()
        link.click()
        mine.page.wait_for_url("**/follow_requests")
        row = mine.page.locator(".follow-request", has_text=f"@{fan}")
        expect(row).to_be_visible()
        _every_size(mine, axe_source, "follow-requests")
        # Accepted in place (no page load).
        mine.page.evaluate("() => { window.stillHere = true; }")
        mine.page.locator(".follow-request", has_text=f"@{fan}").get_by_role(
            "button", name="Accept"
        ).click()
        expect(mine.page.locator(".follow-request")).to_contain_text(
            "Accepted: this account now follows you."
        )
        assert mine.page.evaluate("() => window.stillHere === true")
        mine.page.goto("/")
        expect(mine.page.get_by_role("link", name="Follow requests 1 pending")).to_have_count(0)

        theirs.page.reload()
        expect(theirs.page.locator(".profile-actions")).to_contain_text("You follow this account.")
    finally:
        owner_context.close()
        fan_context.close()


def test_search_resolve_follow_a_remote_account_and_see_its_post(
    browser: Browser, base_url: str, axe_source: str, far_instance: LiveInstance
) -> None:
    far_handle, far = _register(far_instance, "far", "Faraway Fern")
    acct = f"{far_handle}@{far_instance.config.instance.domain}"
    reader = unique_handle("reader")
    context = new_context(browser, base_url)
    try:
        me = watch(context.new_page())
        sign_up(me.page, reader)
        # The header's box, on any page.
        box = me.page.get_by_role("search").get_by_label("Search")
        box.fill(f"@{acct}")
        box.press("Enter")
        me.page.wait_for_url("**/search?q=*")
        found = me.page.locator(".account-row", has_text="Faraway Fern")
        expect(found).to_be_visible()
        _every_size(me, axe_source, "search")

        found.get_by_role("link").click()
        me.page.wait_for_url(f"**/@{acct}")
        me.page.get_by_role("button", name="Follow", exact=True).click()
        expect(me.page.locator(".profile-actions")).to_contain_text(
            "Follow request sent: waiting for approval."
        )
        # The other server accepts (its worker answers, ours takes the Accept).
        _until(me.page, lambda p: "You follow this account." in p.inner_text(".profile-actions"))

        text = f"Greetings from far away {unique_handle('w')}"
        posted = far.post("/api/posts", json={"text": text, "visibility": "public"})
        assert posted.status_code == 201, posted.text
        me.page.goto("/")
        _until(me.page, lambda p: p.locator("article.post", has_text=text).count() == 1)
        expect(me.page.locator("article.post", has_text=text)).to_contain_text("Faraway Fern")

        # Arriving from elsewhere for this account: the page to follow it from here.
        actor = f"{far_instance.config.instance.base_url}/users/{far_handle}"
        me.page.goto(f"/authorize_interaction?uri={actor}")
        expect(me.page.locator("main h1")).to_have_text("Follow Faraway Fern")
        expect(me.page.locator(".profile-actions")).to_contain_text("You follow this account.")
        _every_size(me, axe_source, "authorize-interaction")
    finally:
        context.close()
        far.close()


def test_block_an_account_from_its_profile(browser: Browser, base_url: str) -> None:
    pest, me_handle = unique_handle("pest"), unique_handle("blocker")
    pest_context = new_context(browser, base_url)
    context = new_context(browser, base_url)
    try:
        sign_up(pest_context.new_page(), pest)
        me = watch(context.new_page())
        sign_up(me.page, me_handle)
        me.page.goto(f"/@{pest}")
        me.page.get_by_role("button", name="Block", exact=True).click()
        actions = me.page.locator(".profile-actions")
        expect(actions).to_contain_text("You block this account.")
        expect(actions.get_by_role("button", name="Unblock")).to_be_visible()
        expect(actions.get_by_role("button", name="Follow", exact=True)).to_have_count(0)
        me.page.reload()
        expect(me.page.locator(".profile-actions")).to_contain_text("You block this account.")
        assert me.errors == [] and me.violations == []
    finally:
        pest_context.close()
        context.close()


def test_interact_from_another_server(
    browser: Browser,
    base_url: str,
    axe_source: str,
    web_instance: LiveInstance,
    far_instance: LiveInstance,
) -> None:
    local, ours = _register(web_instance, "local", "Local Lena")
    ours.close()
    far_handle, far = _register(far_instance, "visitor", "Visiting Vic")
    far.close()
    far_domain = far_instance.config.instance.domain
    for javascript in (True, False):
        context = new_context(browser, base_url, javascript=javascript)
        try:
            visitor = watch(context.new_page())
            visitor.page.goto(f"/@{local}")
            visitor.page.get_by_role("link", name="Follow", exact=True).click()
            visitor.page.wait_for_url("**/interact?uri=**")
            expect(visitor.page.locator("main h1")).to_have_text("Follow Local Lena")
            if javascript:
                _every_size(visitor, axe_source, "interact")
                # A bad address: the message in place.
                visitor.page.get_by_label("Your address").fill("nobody-at-all")
                visitor.page.get_by_role("button", name="Go to my server").click()
                expect(visitor.page.locator("#f-acct-error")).to_contain_text("user@server")
                assert visitor.violations == [], visitor.violations
            visitor.page.get_by_label("Your address").fill(f"{far_handle}@{far_domain}")
            visitor.page.get_by_role("button", name="Go to my server").click()
            # Their own server: its log-in page first, then the account to follow.
            visitor.page.wait_for_url(f"http://{far_domain}/auth/login?next=**")
            log_in_there(visitor.page, far_handle)
            visitor.page.wait_for_url(f"http://{far_domain}/authorize_interaction?uri=**")
            expect(visitor.page.locator("main h1")).to_have_text("Follow Local Lena")
            assert visitor.violations == [], visitor.violations
        finally:
            context.close()


def log_in_there(page: Page, handle: str) -> None:
    """The log-in form of whichever instance the page shows."""
    page.get_by_label("User name or email").fill(handle)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
