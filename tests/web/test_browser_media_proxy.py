"""Remote images in Chromium: an account of a second live instance (`pics.localhost:<port>`)
with an avatar and a post with a picture, seen from the browser tests' instance. Under the
pages' CSP (`default-src 'self'`) they show only through our image proxy: the test checks
they are loaded (naturalWidth > 0), named by /media-proxy/ URLs, and that the console saw
no CSP violation."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from storage import db
from tests.conftest import (
    RUN_ID,
    LiveInstance,
    create_migrated_database,
    start_live_instance,
    stop_processes,
    unique_handle,
)
from tests.web.conftest import PASSWORD, check_shown, new_context, sign_up, watch

# Started before the module's browser: Playwright's sync API then holds this thread's
# event loop, and an async fixture set up later could not run.
pytestmark = pytest.mark.usefixtures("pics_instance")

# Each image: its URL, and whether it is loaded (a broken or refused one has naturalWidth 0).
STATES = "(found) => found.map((img) => [img.src, img.complete && img.naturalWidth > 0])"


@pytest.fixture(scope="session")
async def pics_instance(tmp_root: Path) -> AsyncIterator[LiveInstance]:
    """A second live instance whose images the browser's instance proxies."""
    url = await create_migrated_database(f"stgy_test_{RUN_ID}_pics")
    instance = start_live_instance(url, tmp_root, "pics")
    yield instance
    stop_processes(instance.server, instance.worker)
    await db.drop_database(url)


def _picture(fmt: str, size: tuple[int, int], colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def _register(instance: LiveInstance, name: str) -> tuple[str, httpx.Client]:
    """A new account of `instance` and an API client logged in as it."""
    handle = unique_handle("pics")
    http = httpx.Client(base_url=instance.url, timeout=10)
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
    login = http.post("/api/auth/login", json={"handle": handle, "password": PASSWORD})
    assert login.status_code == 200, login.text
    http.headers["Authorization"] = f"Bearer {login.json()['token']}"
    return handle, http


def _upload(http: httpx.Client, data: bytes, name: str, **fields: str) -> dict[str, Any]:
    made = http.post("/api/media", files={"file": (name, data)}, data=fields)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def _until(page: Page, check: Any, timeout: float = 30.0) -> None:
    """Reload until `check(page)` holds: federation happens in the workers."""
    deadline = time.monotonic() + timeout
    while not check(page):
        assert time.monotonic() < deadline, f"not reached in time: {page.url}"
        page.wait_for_timeout(500)
        page.reload()


def _loaded(page: Page, images: Locator, timeout: float = 15.0) -> list[str]:
    """Waits until every image of `images` has loaded (naturalWidth > 0); their URLs."""
    deadline = time.monotonic() + timeout
    while True:
        states: list[tuple[str, bool]] = images.evaluate_all(STATES)
        if states and all(loaded for _, loaded in states):
            return [source for source, _ in states]
        assert time.monotonic() < deadline, f"images not loaded: {states}"
        page.wait_for_timeout(200)


def test_remote_avatar_and_picture_load_through_the_proxy(
    browser: Browser, base_url: str, axe_source: str, pics_instance: LiveInstance
) -> None:
    handle, far = _register(pics_instance, "Pia Pictures")
    try:
        avatar = _upload(far, _picture("PNG", (64, 64), "purple"), "me.png", purpose="avatar")
        changed = far.patch("/api/accounts/me", json={"avatar_media_id": avatar["id"]})
        assert changed.status_code == 200, changed.text
        acct = f"{handle}@{pics_instance.config.instance.domain}"
        context = new_context(browser, base_url)
        try:
            me = watch(context.new_page())
            sign_up(me.page, unique_handle("viewer"))
            me.page.goto(f"/@{acct}")
            me.page.get_by_role("button", name="Follow", exact=True).click()
            _until(
                me.page, lambda p: "You follow this account." in p.inner_text(".profile-actions")
            )

            # The profile: the remote avatar, from our own origin.
            proxied = f"{base_url}/media-proxy/"
            sources = _loaded(me.page, me.page.locator(".profile img.avatar"))
            assert sources and all(source.startswith(proxied) for source in sources), sources
            check_shown(me, axe_source, "media-proxy-profile")

            picture = _upload(
                far, _picture("JPEG", (320, 200), "seagreen"), "sea.jpg", description="The sea"
            )
            text = f"A picture from afar {unique_handle('p')}"
            posted = far.post(
                "/api/posts",
                json={"text": text, "visibility": "public", "media_ids": [picture["id"]]},
            )
            assert posted.status_code == 201, posted.text

            # The home timeline: the post, its author's avatar and its picture.
            me.page.goto("/")
            _until(me.page, lambda p: p.locator("article.post", has_text=text).count() == 1)
            post = me.page.locator("article.post", has_text=text)
            expect(post.get_by_role("img", name="The sea")).to_be_visible()
            post.scroll_into_view_if_needed()
            sources = _loaded(me.page, post.locator("img"))
            assert len(sources) == 2, sources  # the avatar and the picture
            assert all(source.startswith(proxied) for source in sources), sources
            # The link to the whole picture goes through the proxy too.
            link = post.locator("a.media-link").get_attribute("href") or ""
            assert link.startswith("/media-proxy/"), link
            check_shown(me, axe_source, "media-proxy-timeline")
        finally:
            context.close()
    finally:
        far.close()
