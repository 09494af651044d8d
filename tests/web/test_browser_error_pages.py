"""The 404 page in Chromium: HTML for a browser, accessible, under the CSP."""

from __future__ import annotations

from playwright.sync_api import Browser

from stgy.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import SIZES_AND_SCHEMES, axe_violations, new_context, screenshot, watch


def test_unknown_path_shows_the_not_found_page(
    browser: Browser, base_url: str, axe_source: str
) -> None:
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            watched = watch(context.new_page())
            response = watched.page.goto("/no/such/page")
            assert response is not None and response.status == 404
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert watched.page.get_by_role("heading", name="Not found").count() == 1
            assert axe_violations(watched.page, axe_source) == []
            screenshot(watched.page, f"not-found-{size}-{scheme}")
            assert watched.violations == []
            # The page's own 404 is expected; nothing else may fail.
            assert [e for e in watched.errors if "/no/such/page" not in e] == []
        finally:
            context.close()
