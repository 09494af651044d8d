"""The image proxy (/media-proxy/) in process, against an image server on loopback: what
it serves and with which headers, what it refuses and how, its memory of recent images and
failures, the signatures that keep it from being an open proxy, and the template filters
that point pages at it."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from PIL import Image
from quart import Quart, Response, request
from quart.typing import TestClientProtocol as Client

from federation.ssrf import AddressScope
from stgy.config import Config, load_config
from stgy.devservices import free_port
from stgy.domain.media import media_proxy
from stgy.http.context import TOKEN_KEY
from stgy.web import image_proxy
from tests.conftest import config_env, serving
from tests.integration.fetch_peer import Peer, fed_client, fed_config, fed_services, peer

__all__ = ["fed_client", "fed_config", "fed_services", "peer"]  # fixtures, used by name

MAX_BYTES = 4096
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


def _image(fmt: str, colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, fmt)
    return out.getvalue()


PNG = _image("PNG", "teal")
JPEG = _image("JPEG", "orange")


@dataclass
class ImageServer:
    base: str
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _image_app(server: ImageServer) -> Quart:
    app = Quart("images")
    # path -> (body, content type): a server that says what it likes about its files.
    files = {
        "/a.png": (PNG, "image/png"),
        "/b.jpg": (JPEG, "application/octet-stream"),
        "/other.png": (PNG, "image/png"),
        "/evil.svg": (SVG, "image/svg+xml"),
        "/svg-named-png.png": (SVG, "image/png"),
        "/page.html": (b"<!doctype html><title>hi</title>", "text/html; charset=utf-8"),
        "/text-named-png.png": (b"just some text, not a picture at all", "image/png"),
        "/big.png": (PNG + b"\0" * MAX_BYTES, "image/png"),
    }

    @app.before_request
    async def count() -> None:
        server.hits[request.path] += 1

    @app.get("/<path:name>")
    async def serve_file(name: str) -> Response:
        path = f"/{name}"
        if path in files:
            body, content_type = files[path]
            return Response(body, content_type=content_type)
        if path == "/slow.png":
            await asyncio.sleep(3)
            return Response(PNG, content_type="image/png")
        if path == "/to-private.png":
            return Response("", status=302, headers={"Location": "https://10.1.2.3/a.png"})
        if path == "/moved.png":
            return Response("", status=301, headers={"Location": "/a.png"})
        return Response("gone", status=404)

    return app


@pytest.fixture
async def images() -> AsyncIterator[ImageServer]:
    port = free_port()
    server = ImageServer(f"http://127.0.0.1:{port}")
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 0.1
    stop = asyncio.Event()
    task = asyncio.create_task(serve(_image_app(server), config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    async with httpx.AsyncClient() as probe:
        for _ in range(100):
            try:
                await probe.get(server.url("/ready"))
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    server.hits.clear()
    yield server
    stop.set()
    await task


def _proxy_config(database_url: str, tmp_root: Path, private: str) -> Config:
    return load_config(
        environ=config_env(
            database_url,
            tmp_root,
            STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES=private,
            STGY_MEDIA_PROXY_TIMEOUT="0.5",
            STGY_MEDIA_REMOTE_MAX_BYTES=str(MAX_BYTES),
        )
    )


@pytest.fixture
async def proxy_app(database_url: str, tmp_root: Path) -> AsyncIterator[Quart]:
    """An app whose fetches may reach loopback only (the domain is localhost, the guard
    on "auto"): the image server, not the private network."""
    config = _proxy_config(database_url, tmp_root, "auto")
    assert config.address_scope is AddressScope.LOOPBACK
    async with serving(config) as app:
        yield app


def _path(app: Quart, url: str) -> str:
    return media_proxy.proxy_path(app.extensions[TOKEN_KEY], url)


async def _error(client: Client, path: str, status: int) -> dict[str, object]:
    response = await client.get(path)
    body = await response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    assert set(body) == {"error", "detail"}
    assert isinstance(body, dict)
    return body


async def test_images_are_served_with_their_own_type_and_headers(
    proxy_app: Quart, images: ImageServer
) -> None:
    client = proxy_app.test_client()
    for path, body, content_type in (
        ("/a.png", PNG, "image/png"),
        # Declared as octet-stream: the bytes say JPEG.
        ("/b.jpg", JPEG, "image/jpeg"),
        # A redirect on the same server is followed.
        ("/moved.png", PNG, "image/png"),
    ):
        response = await client.get(_path(proxy_app, images.url(path)))
        assert response.status_code == 200, await response.get_data(as_text=True)
        assert await response.get_data() == body
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Cache-Control"] == "public, max-age=86400, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["Content-Disposition"] == "inline"
        assert "Set-Cookie" not in response.headers
    assert images.hits == Counter({"/a.png": 2, "/b.jpg": 1, "/moved.png": 1})


async def test_a_second_request_is_served_from_memory(
    proxy_app: Quart, images: ImageServer
) -> None:
    client = proxy_app.test_client()
    path = _path(proxy_app, images.url("/other.png"))
    # Twenty avatars of one author on a page, some asked for at once.
    answers = await asyncio.gather(*(client.get(path) for _ in range(5)))
    answers += [await client.get(path) for _ in range(15)]
    assert [a.status_code for a in answers] == [200] * 20
    assert {await a.get_data() for a in answers} == {PNG}
    assert images.hits["/other.png"] == 1


async def test_what_is_not_an_image_we_serve_is_refused(
    proxy_app: Quart, images: ImageServer
) -> None:
    client = proxy_app.test_client()
    cases = [
        ("/evil.svg", 502, "bad_gateway", "image/svg+xml"),
        ("/svg-named-png.png", 502, "bad_gateway", "SVG"),
        ("/page.html", 502, "bad_gateway", "text/html"),
        ("/text-named-png.png", 502, "bad_gateway", "not an image of a format we serve"),
        ("/big.png", 502, "bad_gateway", f"larger than {MAX_BYTES} bytes"),
        ("/to-private.png", 502, "bad_gateway", "unsafe target"),
        ("/missing.png", 404, "not_found", "gone from its server"),
        ("/slow.png", 504, "gateway_timeout", "did not answer within 0.5 s"),
    ]
    for path, status, error, words in cases:
        body = await _error(client, _path(proxy_app, images.url(path)), status)
        assert body["error"] == error, (path, body)
        assert words in str(body["detail"]), (path, body)
    # The redirect was not followed to the private address (nothing else to count there);
    # each was fetched once, and a failure is remembered a while: asked again, no fetch.
    for path, status, error, _words in cases:
        body = await _error(client, _path(proxy_app, images.url(path)), status)
        assert body["error"] == error
    assert images.hits == Counter({path: 1 for path, *_ in cases})


async def test_the_signature_keeps_it_from_being_an_open_proxy(
    proxy_app: Quart, images: ImageServer
) -> None:
    client = proxy_app.test_client()
    url = images.url("/a.png")
    good = media_proxy.signature(proxy_app.extensions[TOKEN_KEY], url)
    other = media_proxy.signature(proxy_app.extensions[TOKEN_KEY], images.url("/b.jpg"))
    assert len(good) == 43 and good == media_proxy.signature(proxy_app.extensions[TOKEN_KEY], url)
    quoted = httpx.QueryParams({"url": url})
    for path in (
        f"/media-proxy/{'A' * 43}?{quoted}",  # forged
        f"/media-proxy/{other}?{quoted}",  # another URL's
        f"/media-proxy/{good[:-1]}?{quoted}",  # cut short
        f"/media-proxy/{good}?{httpx.QueryParams({'url': url + '?x=1'})}",  # URL changed
        f"/media-proxy/{good}é?{quoted}",
    ):
        body = await _error(client, path, 404)
        assert body["error"] == "not_found"
        assert "signature" in str(body["detail"])
    missing = await _error(client, f"/media-proxy/{good}", 400)
    assert missing["detail"] == {"field": "url", "reason": "required: the remote image's URL"}
    long_url = images.url("/" + "a" * 5000)
    too_long = await _error(client, _path(proxy_app, long_url), 400)
    assert "longer than" in str(too_long["detail"])
    # Signed, but nothing we would fetch (the templates never sign such a URL).
    for odd in ("ftp://example.com/a.png", "javascript:alert(1)", "/relative.png"):
        refused = await _error(client, _path(proxy_app, odd), 400)
        assert refused["detail"] == {"field": "url", "reason": "not an absolute http(s) URL"}
    # A browser opening the link gets a page (and the pages' CSP), not JSON.
    page = await client.get(
        f"/media-proxy/{'A' * 43}?{quoted}", headers={"Accept": "text/html,*/*;q=0.8"}
    )
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert images.hits == Counter()


async def test_the_guard_refuses_loopback_when_private_addresses_are_not_allowed(
    database_url: str, tmp_root: Path, images: ImageServer
) -> None:
    config = _proxy_config(database_url, tmp_root, "false")
    async with serving(config) as app:
        body = await _error(app.test_client(), _path(app, images.url("/a.png")), 502)
    assert "unsafe target" in str(body["detail"])
    assert images.hits == Counter()


async def test_the_filters_leave_our_urls_and_sign_the_others(proxy_app: Quart) -> None:
    base = proxy_app.extensions["stgy.config"].instance.base_url
    key = proxy_app.extensions[TOKEN_KEY]
    remote = "https://far.example/media/a b.png?size=1&x=2"
    async with proxy_app.app_context():
        assert image_proxy.media_src(f"{base}/media/media/1/small.jpg") == (
            f"{base}/media/media/1/small.jpg"
        )
        assert image_proxy.media_src("/static/x.png") == "/static/x.png"
        assert image_proxy.media_src(None) == ""
        # The same host on another port, or a longer name, is not ours.
        for other in (f"{base}0/a.png", remote):
            assert image_proxy.media_src(other) == media_proxy.proxy_path(key, other)
        proxied = image_proxy.media_src(remote)
        assert proxied.startswith("/media-proxy/")
        assert "far.example%2Fmedia%2Fa%20b.png%3Fsize%3D1%26x%3D2" in proxied
        # Deterministic: a card drawn once stays right for every viewer.
        assert image_proxy.media_src(remote) == proxied
        html = (
            '<p>look <img src="https://far.example/a.png?x=1&amp;y=2" alt="a &quot;cat&quot;">'
            f' and <img src="{base}/media/m.png" alt=""></p>'
        )
        done = str(image_proxy.media_in_html(html))
    signed = media_proxy.proxy_path(key, "https://far.example/a.png?x=1&y=2")
    assert done == (
        f'<p>look <img src="{signed.replace("&", "&amp;")}" alt="a &quot;cat&quot;">'
        f' and <img src="{base}/media/m.png" alt=""></p>'
    )


async def test_a_remote_profile_shows_its_avatar_through_the_proxy(
    fed_client: Client, peer: Peer, images: ImageServer
) -> None:
    peer.add_actor("pat", name="Pat Pictures")
    peer.actors["pat"]["icon"] = {"type": "Image", "url": images.url("/a.png")}
    peer.actors["pat"]["image"] = {"type": "Image", "url": images.url("/b.jpg")}
    page = await fed_client.get(f"/@pat@{peer.host}")
    text = await page.get_data(as_text=True)
    assert page.status_code == 200, text
    sources = [part.split('"', 1)[0].replace("&amp;", "&") for part in text.split('src="')[1:]]
    proxied = [source for source in sources if source.startswith("/media-proxy/")]
    assert len(proxied) == 2, sources
    # No image of another server is named directly.
    assert not [source for source in sources if source.startswith("http")]
    answers = [await fed_client.get(source) for source in proxied]
    assert sorted(a.headers["Content-Type"] for a in answers) == ["image/jpeg", "image/png"]
    assert images.hits == Counter({"/a.png": 1, "/b.jpg": 1})


async def test_a_browser_opening_a_failed_image_gets_a_page(
    proxy_app: Quart, images: ImageServer
) -> None:
    client = proxy_app.test_client()
    for path, status in (("/evil.svg", 502), ("/slow.png", 504)):
        page = await client.get(
            _path(proxy_app, images.url(path)), headers={"Accept": "text/html,*/*;q=0.8"}
        )
        assert page.status_code == status
        assert page.mimetype == "text/html"
        text = await page.get_data(as_text=True)
        assert "The server this image comes from did not send it as it should." in text
