"""Browser tests: a live instance in its own processes, Debian's Chromium through Playwright.

The browser tests are synchronous (Playwright's sync API) and talk to the instance over
loopback only. A missing Chromium or axe-core fails them with how to install it: a
skipped browser test would pass a broken UI.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)

from storage import db
from tests.conftest import (
    RUN_ID,
    LiveInstance,
    create_migrated_database,
    start_live_instance,
    stop_processes,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("STGY_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".var" / "screenshots"
# Without the background-networking flags Chromium keeps trying to reach Google's
# services, and on a closed network its own connections then get refused.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "a long web password 7"
_CSP_VIOLATION = re.compile(r"Content.Security.Policy|Refused to (load|execute|apply)", re.I)


@pytest.fixture(scope="session")
async def web_instance(tmp_root: Path) -> AsyncIterator[LiveInstance]:
    """A live server and worker for the browser tests (open registrations)."""
    url = await create_migrated_database(f"stgy_test_{RUN_ID}_web")
    instance = start_live_instance(url, tmp_root, "web")
    yield instance
    stop_processes(instance.server, instance.worker)
    await db.drop_database(url)


@pytest.fixture(scope="session")
def base_url(web_instance: LiveInstance) -> str:
    """The instance at its own domain (`web.localhost:<port>`, which Chromium resolves to
    loopback), so cookies and Origin are those of the instance."""
    return web_instance.config.instance.base_url


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE.relative_to(ROOT)} is missing: the browser tests need the npm packages;"
            " install npm (apt-get install npm) and run make install",
            pytrace=False,
        )
    return AXE.read_text()


# One browser per test module, closed before the next module starts: Playwright's sync
# API keeps its event loop marked as running in this thread while it is open, and the
# async fixtures and tests of other modules need the thread to themselves.
@pytest.fixture(scope="module")
def browser(web_instance: LiveInstance) -> Iterator[Browser]:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        found = shutil.which("chromium")
        pytest.fail(
            f"Chromium is not at {CHROMIUM}{f' (found {found})' if found else ''}: the"
            " browser tests need Debian's Chromium and CJK fonts; install them with"
            " `apt-get install chromium fonts-noto-cjk` (make test does it when run as root)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watched:
    """A page with what its browser console said about policy violations."""

    page: Page
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def watch(page: Page) -> Watched:
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if _CSP_VIOLATION.search(message.text):
            watched.violations.append(message.text)
        elif message.type == "error" and not message.text.startswith("Failed to load"):
            watched.errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400 and not response.request.method == "POST":
            watched.errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    return watched


def new_context(
    browser: Browser,
    base_url: str,
    *,
    viewport: dict[str, int] = DESKTOP,
    color_scheme: str = "light",
    locale: str = "en-US",
    javascript: bool = True,
) -> BrowserContext:
    return browser.new_context(
        base_url=base_url,
        viewport=viewport,  # type: ignore[arg-type]
        color_scheme=color_scheme,  # type: ignore[arg-type]
        locale=locale,
        java_script_enabled=javascript,
        extra_http_headers={"Accept-Language": "ja" if locale.startswith("ja") else "en"},
    )


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    made = new_context(browser, base_url)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Watched:
    return watch(context.new_page())


def axe_violations(page: Page, axe_source: str) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each. The script is
    evaluated, not added as a <script>: our CSP refuses inline scripts, as it should."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} {targets}")
    return found


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_up(page: Page, handle: str, password: str = PASSWORD) -> None:
    """Fill in and send the sign-up form (open registrations log the new account in)."""
    page.goto("/auth/signup")
    page.get_by_label("User name", exact=True).fill(handle)
    page.get_by_label("Email").fill(f"{handle}@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/")


def log_in(page: Page, handle: str, password: str = PASSWORD) -> None:
    page.goto("/auth/login")
    page.get_by_label("User name or email").fill(handle)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


# Each page is shot in these (size name, viewport, color scheme).
SIZES_AND_SCHEMES = [
    ("phone", PHONE, "light"),
    ("phone", PHONE, "dark"),
    ("desktop", DESKTOP, "light"),
    ("desktop", DESKTOP, "dark"),
]


def api_follow(instance: LiveInstance, handle: str) -> None:
    """A new account follows `handle` through the JSON API (the web face has no follow
    button yet on this branch)."""
    import httpx  # here, so this helper stays one block at the end of the file

    from tests.conftest import unique_handle

    with httpx.Client(base_url=instance.url) as http:
        follower = unique_handle("fan")
        password = "fan password 12345"
        made = http.post(
            "/api/accounts",
            json={"handle": follower, "password": password, "email": f"{follower}@example.com"},
        )
        assert made.status_code == 201, made.text
        token = http.post(
            "/api/auth/login", json={"handle": follower, "password": password}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        target = http.get(f"/api/accounts/@{handle}", headers=headers)
        assert target.status_code == 200, target.text
        done = http.put(f"/api/accounts/{target.json()['id']}/follow", headers=headers)
        assert done.status_code in (200, 201, 204), done.text


# A page shot in all four sizes and schemes is checked by axe in two of them: the phone
# in light and the desktop in dark (both schemes' colours, both layouts). The other two
# are still screenshot and checked for sideways scrolling, CSP violations and errors.
# (axe is most of a check's time; a shot named otherwise, e.g. "-ja", is always checked.)
_AXE_SKIPPED = ("-phone-dark", "-desktop-light")


def wants_axe(shot: str) -> bool:
    return not shot.endswith(_AXE_SKIPPED)


def check_shown(watched: Watched, axe_source: str, shot: str) -> None:
    """The page now shown: one h1, no serious axe finding, no sideways scroll, no CSP
    violation or failed request in the console; and its screenshot."""
    page = watched.page
    assert page.locator("main h1").count() == 1
    if wants_axe(shot):
        assert axe_violations(page, axe_source) == [], f"{shot}: axe found problems"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, shot)
    assert watched.violations == [], watched.violations
    assert watched.errors == [], watched.errors
