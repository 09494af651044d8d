"""/api/docs in Chromium: Swagger UI from our own files lists the operations, CSP intact."""

from __future__ import annotations

from playwright.sync_api import Browser

from stgy.web.api_docs import API_DOCS_POLICY
from tests.web.conftest import SCREENSHOTS, SIZES_AND_SCHEMES, axe_violations, new_context, watch


def test_api_docs_list_the_operations_under_our_policy(
    browser: Browser, base_url: str, axe_source: str
) -> None:
    for size, viewport, scheme in SIZES_AND_SCHEMES:
        context = new_context(browser, base_url, viewport=viewport, color_scheme=scheme)
        try:
            watched = watch(context.new_page())
            page = watched.page
            requested: list[str] = []
            page.on("request", lambda request, seen=requested: seen.append(request.url))
            response = page.goto("/api/docs")
            assert response is not None and response.status == 200
            assert response.headers["content-security-policy"] == API_DOCS_POLICY
            page.locator(".opblock").first.wait_for()
            assert page.locator(".opblock").count() > 20
            assert page.get_by_text("/api/accounts/me").count() >= 1
            # Everything from this instance: no CDN.
            assert all(url.startswith(base_url) for url in requested), requested
            # Swagger UI's own markup nests its operation buttons (a known issue of theirs,
            # swagger-api/swagger-ui); everything else must pass.
            found = axe_violations(page, axe_source)
            assert [v for v in found if " nested-interactive:" not in v] == [], found
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"api-docs-{size}-{scheme}.png"))
            assert watched.violations == [], watched.violations
            assert watched.errors == [], watched.errors
        finally:
            context.close()
