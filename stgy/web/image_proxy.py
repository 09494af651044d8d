"""Remote images served from our own origin: the `/media-proxy/` route and the template
filter that points pages at it (see stgy/domain/media/media_proxy.py).

A blueprint of its own, not a child of the pages' one: an image request needs no session,
CSRF check or page headers, and an error is answered as the app answers any (JSON, or a
page to a browser that asked for one).
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup, escape
from quart import Blueprint, Response, current_app, request

from stgy.domain.media import media_proxy
from stgy.web import context

bp = Blueprint("image_proxy", __name__)

_MEMORY_KEY = "stgy.web.image_proxy"
# Sanitised HTML (stgy.domain.text.sanitize_html: nh3 escapes < > " inside attribute
# values, and writes them double-quoted) has whole start tags these patterns can read.
_IMAGE_START = re.compile(r"<img(?: [a-z-]+=\"[^\"]*\")*\s*/?>")
_SOURCE = re.compile(r' src="([^"]*)"')
# The URL names its content (the signature is of the URL): cached anywhere, for a day.
# The body is shown as an image and nothing else, even when opened on its own.
IMAGE_HEADERS = {
    "Cache-Control": "public, max-age=86400, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": "inline",
    "Referrer-Policy": "no-referrer",
}


def memory() -> media_proxy.ProxyMemory:
    """This app's recent images (one per app, so two apps in a process never share)."""
    found: media_proxy.ProxyMemory | None = current_app.extensions.get(_MEMORY_KEY)
    if found is None:
        found = media_proxy.ProxyMemory(context.config().media.proxy_cache_bytes)
        current_app.extensions[_MEMORY_KEY] = found
    return found


@bp.get("/media-proxy/<signature>")
async def proxied(signature: str) -> Response:
    """A remote image named by a URL this instance signed: its bytes, or a 4xx/5xx error."""
    url = media_proxy.check_request(context.token_key(), signature, request.args.get("url"))
    image = await media_proxy.proxied_image(context.services(), memory(), url)
    return Response(image.data, content_type=image.content_type, headers=IMAGE_HEADERS)


def media_src(url: str | None) -> str:
    """What a page loads for a media URL: ours (the instance's base URL, or a path) as it
    is, any other http(s) URL through the proxy. Deterministic, so cached cards stay right."""
    if not url:
        return ""
    if url.startswith("/") and not url.startswith("//"):
        return url
    base = context.config().instance.base_url
    if url == base or url.startswith(base + "/"):
        return url
    if not media_proxy.is_http_url(url):
        return url  # not something a browser would load under our CSP anyway
    return media_proxy.proxy_path(context.token_key(), url)


def _proxied_source(match: re.Match[str]) -> str:
    url = media_src(html.unescape(match.group(1)))
    return f' src="{escape(url)}"'


def _proxied_image(match: re.Match[str]) -> str:
    return _SOURCE.sub(_proxied_source, match.group(0))


def media_in_html(markup: str | None) -> Markup:
    """Sanitised HTML (a post's text, a bio) with its images' sources as media_src gives
    them, ready to insert: written as it was stored, or sanitised when it arrived."""
    if not markup:
        return Markup("")
    # Input sanitised before it was stored; only image sources change here.
    return Markup(_IMAGE_START.sub(_proxied_image, markup))  # noqa: S704
