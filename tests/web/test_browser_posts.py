"""Posts and profiles in Chromium: a reader follows an author from the profile page,
sees an image post on home, likes it in place (htmx) and by a plain form post, replies;
the author deletes it. Each page checked with axe-core, the CSP and screenshots."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from stgy.web.post_cards import PAGE_SIZE
from tests.conftest import LiveInstance, unique_handle
from tests.web.conftest import PASSWORD, PHONE, new_context, screenshot, sign_up, watch
from tests.web.test_browser_pages import VARIANTS, _check_page

_POST_ID = re.compile(r"post-(\d+)")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_post(page: Page, text: str, alt: str, *, sensitive: bool = False) -> str:
    """Write on home with an image; sends with Ctrl+Enter. The post's id."""
    box = page.get_by_label("New post")
    box.fill(text)
    expect(page.locator("#f-text-count")).to_contain_text("characters left")
    # The Enter that confirms an IME conversion does not send.
    box.evaluate(
        "el => el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true,"
        " isComposing: true, bubbles: true, cancelable: true}))"
    )
    page.wait_for_timeout(300)
    assert box.input_value() == text
    # The preview comes in place (the composer is drawn again with it).
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview")).to_contain_text(text.split(" #")[0])
    box = page.get_by_label("New post")
    assert box.input_value() == text
    page.get_by_text("Add images").click()
    page.locator("#f-image1").set_input_files(
        files=[{"name": "blue.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.locator("#f-alt1").fill(alt)
    if sensitive:
        page.get_by_label("Mark images as sensitive").check()
    box.focus()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    article = page.locator("article.post", has_text=text).first
    expect(article).to_be_visible()
    found = _POST_ID.fullmatch(article.get_attribute("id") or "")
    assert found is not None
    return found.group(1)


def test_follow_post_like_reply_delete(browser: Browser, base_url: str, axe_source: str) -> None:
    author, reader = unique_handle("author"), unique_handle("reader")
    author_context = new_context(browser, base_url)
    reader_context = new_context(browser, base_url)
    try:
        writer = watch(author_context.new_page())
        sign_up(writer.page, author)
        me = watch(reader_context.new_page())
        sign_up(me.page, reader)
        # Follow from the author's profile, in place.
        me.page.goto(f"/@{author}")
        me.page.evaluate("() => { window.stillHere = true; }")
        me.page.get_by_role("button", name="Follow", exact=True).click()
        expect(me.page.locator(".profile-actions")).to_contain_text("You follow this account.")
        assert me.page.evaluate("() => window.stillHere === true")

        post_id = _write_post(writer.page, "Sunset over the bay #webflow", "A blue rectangle")

        # The reader sees it on home with its image and alt text.
        me.page.goto("/")
        article = me.page.locator(f"#post-{post_id}")
        expect(article).to_contain_text("Sunset over the bay")
        expect(article.get_by_role("img", name="A blue rectangle")).to_be_visible()

        # Like in place: the count changes, the page is not loaded again.
        me.page.evaluate("() => { window.stillHere = true; }")
        article.get_by_role("button", name=re.compile("^Like")).click()
        expect(article.get_by_role("button", name="Like 1")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert me.page.evaluate("() => window.stillHere === true")
        screenshot(me.page, "home-liked-desktop-light")

        # Without JavaScript: a form post and a page load, the like undone.
        state: Any = reader_context.storage_state()
        plain = browser.new_context(
            base_url=base_url, java_script_enabled=False, storage_state=state
        )
        try:
            page = plain.new_page()
            page.goto("/")
            page.locator(f"#post-{post_id}").get_by_role("button", name="Like 1").click()
            page.wait_for_load_state()
            expect(
                page.locator(f"#post-{post_id}").get_by_role("button", name="Like 0")
            ).to_be_visible()
        finally:
            plain.close()

        # A reply from the post's own page.
        me.page.goto(f"/@{author}/{post_id}")
        me.page.locator(f"#post-{post_id}").get_by_role("link", name=re.compile("^Reply")).click()
        me.page.get_by_label("Your reply").fill("Lovely colours")
        me.page.get_by_role("button", name="Reply", exact=True).click()
        me.page.wait_for_url("**/")
        me.page.goto(f"/@{author}/{post_id}")
        expect(me.page.locator(".replies")).to_contain_text("Lovely colours")

        # A sensitive image waits behind its BlurHash until asked for.
        hidden_id = _write_post(writer.page, "Spoiler ahead", "A hidden picture", sensitive=True)
        me.page.goto("/")
        hidden = me.page.locator(f"#post-{hidden_id}")
        expect(hidden.locator(".media-placeholder canvas")).to_have_count(1)
        expect(hidden.get_by_role("img", name="A hidden picture")).not_to_be_visible()
        screenshot(me.page, "home-sensitive-desktop-light")
        hidden.get_by_text("Sensitive image: show").click()
        expect(hidden.get_by_role("img", name="A hidden picture")).to_be_visible()

        # Every page of posts: axe, CSP, screenshots in each size and scheme.
        pages = {
            "home-timeline": "/",
            "local": "/timelines/local",
            "federated": "/timelines/public",
            "tag": "/tags/webflow",
            "post": f"/@{author}/{post_id}",
            "compose": f"/compose?in_reply_to={post_id}",
            "profile": f"/@{author}",
            "followers": f"/@{author}/followers",
        }
        for size, viewport, scheme in VARIANTS:
            context = browser.new_context(
                base_url=base_url,
                viewport=viewport,  # type: ignore[arg-type]
                color_scheme=scheme,  # type: ignore[arg-type]
                storage_state=state,
            )
            try:
                page = context.new_page()
                for name, path in pages.items():
                    _check_page(page, path, axe_source, f"{name}-{size}-{scheme}")
            finally:
                context.close()

        # In Japanese: the same pages, the UI in Japanese (fonts-noto-cjk for the shots).
        for size, viewport, _ in VARIANTS[::2]:
            context = browser.new_context(
                base_url=base_url,
                viewport=viewport,  # type: ignore[arg-type]
                locale="ja-JP",
                extra_http_headers={"Accept-Language": "ja"},
                storage_state=state,
            )
            try:
                page = context.new_page()
                for name in ("home-timeline", "profile"):
                    _check_page(page, pages[name], axe_source, f"{name}-{size}-light-ja")
                    assert page.locator("html").get_attribute("lang") == "ja"
                page.goto("/")
                assert page.get_by_role("button", name="投稿").count() == 1
            finally:
                context.close()

        # The author deletes the post: a confirmation page, then it is gone.
        writer.page.goto("/")
        writer.page.locator(f"#post-{post_id}").get_by_role("link", name="Delete").click()
        expect(writer.page.locator("main h1")).to_have_text("Delete this post?")
        assert writer.page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        screenshot(writer.page, "delete-post-desktop-light")
        writer.page.get_by_role("button", name="Delete").click()
        writer.page.wait_for_url("**/")
        expect(writer.page.locator(f"#post-{post_id}")).to_have_count(0)
        assert writer.violations == [] and writer.errors == [], writer.errors
        assert me.violations == [] and me.errors == [], me.errors
    finally:
        author_context.close()
        reader_context.close()


def test_older_posts_load_in_place_when_scrolled_to(
    browser: Browser, base_url: str, web_instance: LiveInstance
) -> None:
    handle = unique_handle("many")
    context = new_context(browser, base_url, viewport=PHONE)
    try:
        watched = watch(context.new_page())
        sign_up(watched.page, handle)
        login = httpx.post(
            f"{web_instance.url}/api/auth/login", json={"handle": handle, "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        for n in range(PAGE_SIZE + 3):
            made = httpx.post(f"{web_instance.url}/api/posts", json={"text": f"n{n}"}, headers=auth)
            assert made.status_code == 201, made.text
        page = watched.page
        page.goto(f"/@{handle}")
        expect(page.locator("article.post")).to_have_count(PAGE_SIZE)
        page.evaluate("() => { window.stillHere = true; }")
        # Scrolled into view, the link loads the next page in its place (once).
        page.get_by_role("link", name="Older posts").scroll_into_view_if_needed()
        expect(page.locator("article.post")).to_have_count(PAGE_SIZE + 3)
        page.wait_for_timeout(500)
        assert page.locator("article.post").count() == PAGE_SIZE + 3
        assert page.evaluate("() => window.stillHere === true")
        expect(page.get_by_role("link", name="Older posts")).to_have_count(0)
        assert watched.violations == [] and watched.errors == [], watched.errors
    finally:
        context.close()
