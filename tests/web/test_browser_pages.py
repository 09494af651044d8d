"""Every page in Chromium: axe-core, the CSP (header and console), screenshots, Japanese."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from stgy.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import unique_handle
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    axe_violations,
    new_context,
    screenshot,
    sign_up,
    wants_axe,
    watch,
)

PAGES = {
    "index": "/",
    "about": "/about",
    "login": "/auth/login",
    "signup": "/auth/signup",
    "signup-pending": "/auth/signup/pending",
    "home": "/",  # logged in
}
VARIANTS = [
    ("phone", PHONE, "light"),
    ("phone", PHONE, "dark"),
    ("desktop", DESKTOP, "light"),
    ("desktop", DESKTOP, "dark"),
]


def test_chromium_reports_its_version(
    browser: Browser, record_property: Callable[[str, Any], None]
) -> None:
    version = browser.version
    record_property("chromium", version)
    print(f"browser under test: Chromium {version}")
    assert int(version.split(".")[0]) >= 120


def test_axe_finds_what_it_should(browser: Browser, axe_source: str) -> None:
    """The checker itself works: a page with known problems does not pass."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<html><body><img src="x.png"><button></button></body></html>')
        found = " ".join(axe_violations(page, axe_source))
        assert "image-alt" in found and "button-name" in found
    finally:
        context.close()


@pytest.fixture(scope="module")
def member_state(browser: Browser, base_url: str) -> Iterator[dict[str, Any]]:
    """The cookies of a member who signed up through the form."""
    context = new_context(browser, base_url)
    page = context.new_page()
    sign_up(page, unique_handle("pages"))
    state: dict[str, Any] = dict(context.storage_state())
    context.close()
    yield state


def _check_page(page: Page, path: str, axe_source: str, shot: str) -> None:
    watched = watch(page)
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.locator("main h1").count() == 1
    assert page.locator("a.skip-link[href='#main']").count() == 1
    if wants_axe(shot):
        assert axe_violations(page, axe_source) == [], f"{shot}: axe found problems"
    # The page must not scroll sideways on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, shot)
    assert watched.violations == [], watched.violations
    assert watched.errors == [], watched.errors


@pytest.mark.parametrize("name", PAGES)
def test_page_is_accessible_in_every_size_and_scheme(
    browser: Browser,
    base_url: str,
    axe_source: str,
    member_state: dict[str, Any],
    name: str,
) -> None:
    for size, viewport, scheme in VARIANTS:
        context = browser.new_context(
            base_url=base_url,
            viewport=viewport,  # type: ignore[arg-type]
            color_scheme=scheme,  # type: ignore[arg-type]
            locale="en-US",
            storage_state=member_state if name == "home" else None,  # type: ignore[arg-type]
        )
        try:
            _check_page(context.new_page(), PAGES[name], axe_source, f"{name}-{size}-{scheme}")
        finally:
            context.close()


def test_japanese_ui(browser: Browser, base_url: str, axe_source: str) -> None:
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = new_context(browser, base_url, viewport=viewport, locale="ja-JP")
        try:
            page = context.new_page()
            for name in ("index", "signup"):
                _check_page(page, PAGES[name], axe_source, f"{name}-{size}-light-ja")
                assert page.locator("html").get_attribute("lang") == "ja"
            assert page.get_by_role("button", name="アカウントを作成").count() == 1
            assert page.get_by_label("パスワード").count() == 1
        finally:
            context.close()
