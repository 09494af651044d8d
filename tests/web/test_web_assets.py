"""Static files, templates and catalogs of the web face, checked without a browser."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from quart.typing import TestClientProtocol as Client

from stgy.web import assets, i18n

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "stgy" / "web"
TEMPLATES = WEB / "templates"


async def test_own_static_files_are_immutable_at_their_hash(client: Client) -> None:
    url = assets.asset_url("stgy.css")
    assert url is not None and url.startswith("/static/stgy.css?v=")
    response = await client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.headers["Cache-Control"] == assets.IMMUTABLE
    etag = response.headers["ETag"]
    stale = await client.get("/static/stgy.css?v=old")
    assert stale.headers["Cache-Control"] == "no-cache"
    again = await client.get("/static/stgy.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "Content-Security-Policy" not in response.headers


async def test_only_allow_listed_files_are_served(client: Client) -> None:
    for path in (
        "/static/vendor/axe-core/axe.min.js",
        "/static/vendor/axe.min.js",
        "/static/vendor/../../pyproject.toml",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/templates/base.html",
        "/static/nothing.css",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_vendor_files_come_from_node_modules(client: Client) -> None:
    assert assets.vendor_missing() == [], "run make install (npm ci)"
    url = assets.asset_url("vendor/htmx.min.js")
    assert url is not None
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == assets.IMMUTABLE
    body = await response.get_data()
    assert b"htmx" in body[:2000]
    version = re.search(rb'version:\s*"(\d+)\.(\d+)\.\d+"', body)
    assert version is not None and version.groups() == (b"2", b"0")  # htmx 2.0.x


def test_nothing_third_party_is_committed() -> None:
    gitignore = (ROOT / ".gitignore").read_text().split()
    assert "node_modules/" in gitignore
    ours = {path.name for path in (WEB / "static").iterdir()}
    # The two PNGs are ours too: the plain avatar and header Mastodon apps are given for
    # accounts without one (stgy/mastodon/entities.py).
    assert ours == {
        "stgy.css",
        "stgy.js",
        "favicon.svg",
        "api-docs.css",
        "api-docs.js",
        "avatar-missing.png",
        "header-missing.png",
    }


def test_the_image_copies_every_vendor_file() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "npm ci" in dockerfile
    for inside in assets.VENDOR_FILES.values():
        assert f"node_modules/{inside}" in dockerfile, inside


def test_templates_keep_to_the_content_security_policy() -> None:
    for path in TEMPLATES.rglob("*.html"):
        if "mail" in path.relative_to(TEMPLATES).parts:
            continue  # mails are not pages
        text = path.read_text()
        name = path.relative_to(ROOT)
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {name}"
        assert not re.search(r"\sstyle=", text), f"style attribute in {name}"
        assert "<style" not in text, f"style element in {name}"
        assert not re.search(r"\s(data-)?hx-on", text), f"hx-on in {name}"
        assert not re.search(r"\son[a-z]+=", text), f"event handler attribute in {name}"


def test_the_web_face_reaches_data_through_the_domain_only() -> None:
    for path in WEB.rglob("*.py"):
        text = path.read_text()
        imports = re.findall(r"^(?:from|import) (\S+)", text, re.M)
        assert "asyncpg" not in imports, path
        storage = [name for name in imports if name.startswith("storage")]
        # Record types only (the viewer a session names).
        assert set(storage) <= {"storage.sessions"}, path
        assert ".acquire(" not in text and "fetchrow" not in text, path


def _extracted() -> set[str]:
    """The strings `make messages` gathers (the same mapping, with Babel's keywords)."""
    with (WEB / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(WEB), method_map, options_map)
    }


def test_every_string_has_its_japanese_translation() -> None:
    extracted = _extracted()
    assert "Log in" in extracted and "Wrong user name, email or password." in extracted
    for language in i18n.LANGUAGES:
        with i18n.catalog_path(language).open("rb") as source:
            catalog = read_po(source, locale=language)
        ids = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog}
        missing = sorted(extracted - ids)
        assert missing == [], f"{language}: run make messages; missing {missing}"
        if language == "ja":
            untranslated = [
                message.id
                for message in catalog
                if message.id and (not message.string or message.fuzzy)
            ]
            assert untranslated == [], untranslated


def test_japanese_catalog_compiles_and_keeps_placeholders() -> None:
    translations = i18n.translations("ja")
    with i18n.catalog_path("ja").open("rb") as source:
        catalog = read_po(source, locale="ja")
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        names = set(re.findall(r"%\((\w+)\)", message.id))
        assert set(re.findall(r"%\((\w+)\)", str(message.string))) == names, message.id
        assert translations.gettext(message.id) == message.string
