"""Editing a post in Chromium (with htmx, then without JavaScript), its "Edited" mark and
history page, and a bookmark showing on /bookmarks; the edit, history and bookmarks pages
checked with axe-core, the CSP and screenshots in each size and scheme."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, BrowserContext, expect

from tests.conftest import unique_handle
from tests.web.conftest import (
    SIZES_AND_SCHEMES,
    Watched,
    check_shown,
    new_context,
    sign_up,
    watch,
)

_POST_ID = re.compile(r"post-(\d+)")


def _write(watched: Watched, text: str) -> str:
    """Post `text` from the composer on home; the new post's id."""
    page = watched.page
    page.goto("/")
    page.get_by_label("New post").fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Post", exact=True).click()
    article = page.locator("article.post", has_text=text).first
    expect(article).to_be_visible()
    found = _POST_ID.fullmatch(article.get_attribute("id") or "")
    assert found is not None
    return found.group(1)


def _check_every_variant(
    browser: Browser, base_url: str, state: Any, axe_source: str, pages: dict[str, str]
) -> None:
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context: BrowserContext = browser.new_context(
            base_url=base_url,
            viewport=viewport,  # type: ignore[arg-type]
            color_scheme=scheme,  # type: ignore[arg-type]
            storage_state=state,
        )
        try:
            watched = watch(context.new_page())
            for name, path in pages.items():
                response = watched.page.goto(path)
                assert response is not None and response.status == 200, path
                check_shown(watched, axe_source, f"{name}-{size}-{scheme}")
        finally:
            context.close()


def test_edit_history_and_bookmarks(browser: Browser, base_url: str, axe_source: str) -> None:
    author, reader = unique_handle("editor"), unique_handle("keeper")
    author_context = new_context(browser, base_url)
    reader_context = new_context(browser, base_url)
    try:
        writer = watch(author_context.new_page())
        sign_up(writer.page, author)
        post_id = _write(writer, "A first take on things")
        page = writer.page

        # Edit from the post's action bar; the preview comes in place (no page load).
        page.locator(f"#post-{post_id}").get_by_role("link", name="Edit", exact=True).click()
        page.wait_for_url(f"**/posts/{post_id}/edit")
        expect(page.locator("main h1")).to_have_text("Edit post")
        box = page.get_by_label("Text", exact=True)
        expect(box).to_have_value("A first take on things")
        box.fill("A **second** take on things")
        page.get_by_label("Content warning").fill("opinions")
        page.evaluate("() => { window.stillHere = true; }")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator(".preview strong")).to_have_text("second")
        assert page.evaluate("() => window.stillHere === true")
        assert page.get_by_label("Text", exact=True).input_value() == "A **second** take on things"
        # An error shows in the form, in place, with focus on the field.
        page.get_by_label("Language").fill("xx1")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_label("Language")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Language")).to_be_focused()
        assert page.evaluate("() => window.stillHere === true")
        page.get_by_label("Language").fill("en")
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"**/@{author}/{post_id}")
        post = page.locator(f"#post-{post_id}")
        expect(post.get_by_text("opinions")).to_be_visible()
        edited = post.get_by_role("link", name=re.compile("^Edited"))
        expect(edited).to_be_visible()

        # Without JavaScript (a second browser context): a plain form post.
        state: Any = author_context.storage_state()
        plain = browser.new_context(
            base_url=base_url, java_script_enabled=False, storage_state=state
        )
        try:
            no_js = plain.new_page()
            no_js.goto(f"/posts/{post_id}/edit")
            no_js.get_by_label("Text", exact=True).fill("A third take, without scripts")
            no_js.get_by_role("button", name="Preview").click()
            no_js.wait_for_load_state()
            expect(no_js.locator(".preview")).to_contain_text("A third take, without scripts")
            no_js.get_by_role("button", name="Save").click()
            no_js.wait_for_url(f"**/@{author}/{post_id}")
            expect(no_js.locator(f"#post-{post_id}")).to_contain_text("without scripts")
        finally:
            plain.close()

        # The history: three versions, newest first.
        page.goto(f"/@{author}/{post_id}")
        page.locator(f"#post-{post_id}").get_by_role("link", name=re.compile("^Edited")).click()
        page.wait_for_url(f"**/@{author}/{post_id}/history")
        versions = page.locator("article.version")
        expect(versions).to_have_count(3)
        expect(versions.nth(0)).to_contain_text("A third take, without scripts")
        expect(versions.nth(1).locator("strong")).to_have_text("second")
        expect(versions.nth(2)).to_contain_text("A first take on things")

        # A reader bookmarks it in place and finds it on /bookmarks (linked from home).
        me = watch(reader_context.new_page())
        sign_up(me.page, reader)
        me.page.goto(f"/@{author}/{post_id}")
        bar = me.page.locator(f"#post-{post_id} .post-actions")
        bar.get_by_role("button", name="Bookmark").click()
        expect(bar.get_by_role("button", name="Bookmark")).to_have_attribute("aria-pressed", "true")
        me.page.goto("/")
        me.page.get_by_role("navigation", name="Timelines").get_by_role(
            "link", name="Bookmarks"
        ).click()
        me.page.wait_for_url("**/bookmarks")
        expect(me.page.locator(f"#post-{post_id}")).to_contain_text("without scripts")
        assert writer.violations == [] and writer.errors == [], writer.errors
        assert me.violations == [] and me.errors == [], me.errors

        # Each page in each size and scheme: axe, CSP, screenshots.
        _check_every_variant(
            browser,
            base_url,
            state,
            axe_source,
            {
                "edit-post": f"/posts/{post_id}/edit",
                "post-history": f"/@{author}/{post_id}/history",
            },
        )
        _check_every_variant(
            browser,
            base_url,
            reader_context.storage_state(),
            axe_source,
            {"bookmarks": "/bookmarks"},
        )
    finally:
        author_context.close()
        reader_context.close()
