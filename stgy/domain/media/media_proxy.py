"""The image proxy: remote images signed into our own URLs, fetched through the SSRF guard,
checked to be images we serve, and kept a while in this process's memory.

Pages may load images from their own origin only (the web face's CSP), and a browser
loading a remote server's image would tell that server who is reading. So pages name a
remote image by `/media-proxy/<signature>?url=<url>`; the signature (an HMAC of the URL
with a key of its own, derived from the instance's token key) keeps the route from being
an open proxy, and makes the URL deterministic, so cached renderings stay correct.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from federation.fetch import FetchError
from federation.media_fetch import fetch_media
from stgy.domain import domain_blocks
from stgy.domain.browser_sessions import purpose_mac
from stgy.domain.errors import BadGateway, DomainError, GatewayTimeout, Invalid, NotFound
from stgy.services import Services

log = logging.getLogger("stgy.media")

PATH = "/media-proxy/"
_PURPOSE = b"stgy media proxy"
MAX_URL_LENGTH = 4096
# What a remote server may say it sends: image types, or nothing precise (many serve
# images as octet-stream). The bytes decide in the end.
DECLARED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/jpg",
        "image/pjpeg",
        "image/png",
        "image/x-png",
        "image/apng",
        "image/gif",
        "image/webp",
        "image/avif",
        "application/octet-stream",
        "binary/octet-stream",
        "",
    }
)
# A failed fetch is answered again from memory this long (a broken avatar on a page of
# twenty posts is asked for once, not twenty times a minute).
FAILURE_SECONDS = 60.0
MAX_FAILURES = 1024
# An image bigger than this share of the cache is served but not kept: it would push out
# many avatars.
_LARGEST_SHARE = 4


@dataclass(frozen=True)
class ProxiedImage:
    content_type: str
    data: bytes


def signature(key: str, url: str) -> str:
    """The signature of `url` in its proxy path (43 URL-safe characters)."""
    return purpose_mac(key, _PURPOSE, url)


def proxy_path(key: str, url: str) -> str:
    """Where a page loads the remote image at `url` from: a path on this instance."""
    return f"{PATH}{signature(key, url)}?url={quote(url, safe='')}"


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def check_request(key: str, given_signature: str, url: str | None) -> str:
    """The URL of a proxy request whose signature matches; Invalid (400) for a missing or
    malformed URL, NotFound (404) for a signature that is not ours for it."""
    if not url:
        raise Invalid("url", "required: the remote image's URL")
    if len(url) > MAX_URL_LENGTH:
        raise Invalid("url", f"longer than {MAX_URL_LENGTH} characters")
    expected = signature(key, url)
    if not hmac.compare_digest(expected.encode(), given_signature.encode("utf-8", "replace")):
        raise NotFound("no such proxied image: the signature does not match the URL")
    if not is_http_url(url):
        raise Invalid("url", "not an absolute http(s) URL")
    return url


class ProxyMemory:
    """Recent images by URL (bounded by their bytes; the least recently used go first),
    recent failures (bounded by count, each for FAILURE_SECONDS), and the fetches under
    way, so concurrent requests for one URL share a fetch."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.images: OrderedDict[str, ProxiedImage] = OrderedDict()
        self.failures: OrderedDict[str, tuple[float, type[DomainError], str]] = OrderedDict()
        self.pending: dict[str, asyncio.Task[ProxiedImage]] = {}

    def get(self, url: str) -> ProxiedImage | None:
        found = self.images.get(url)
        if found is not None:
            self.images.move_to_end(url)
        return found

    def put(self, url: str, image: ProxiedImage) -> None:
        size = len(image.data)
        if size > self.max_bytes // _LARGEST_SHARE:
            return
        old = self.images.pop(url, None)
        if old is not None:
            self.bytes -= len(old.data)
        self.images[url] = image
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, gone = self.images.popitem(last=False)
            self.bytes -= len(gone.data)

    def failure(self, url: str) -> DomainError | None:
        found = self.failures.get(url)
        if found is None:
            return None
        until, kind, detail = found
        if time.monotonic() >= until:
            del self.failures[url]
            return None
        return kind(detail)

    def fail(self, url: str, error: DomainError) -> None:
        self.failures.pop(url, None)
        self.failures[url] = (time.monotonic() + FAILURE_SECONDS, type(error), str(error.detail))
        while len(self.failures) > MAX_FAILURES:
            self.failures.popitem(last=False)


async def proxied_image(services: Services, memory: ProxyMemory, url: str) -> ProxiedImage:
    """The image at `url` (checked with check_request first): from memory, or fetched.

    NotFound when the remote server says it is gone, BadGateway (502) when it answers
    anything but an image we serve (or the guard refuses where it leads), GatewayTimeout
    (504) when it is too slow."""
    if await domain_blocks.rejects_media(services, urlsplit(url).netloc.rpartition("@")[2]):
        raise NotFound("media of this domain is not shown here (domain block)")
    found = memory.get(url)
    if found is not None:
        return found
    failed = memory.failure(url)
    if failed is not None:
        raise failed
    task = memory.pending.get(url)
    if task is None:
        task = asyncio.create_task(_fetch_and_keep(services, memory, url))
        memory.pending[url] = task
        task.add_done_callback(lambda done: _settled(memory, url, done))
    # Shielded: a viewer who goes away does not cancel the fetch others wait for.
    return await asyncio.shield(task)


def _settled(memory: ProxyMemory, url: str, task: asyncio.Task[ProxiedImage]) -> None:
    if memory.pending.get(url) is task:
        del memory.pending[url]
    if not task.cancelled():
        task.exception()  # retrieved here too, for when every waiter went away


async def _fetch_and_keep(services: Services, memory: ProxyMemory, url: str) -> ProxiedImage:
    try:
        image = await _fetch(services, url)
    except (NotFound, BadGateway, GatewayTimeout) as error:
        memory.fail(url, error)
        log.info("media_proxy url=%r refused=%r", url[:200], str(error.detail)[:200])
        raise
    memory.put(url, image)
    return image


async def _fetch(services: Services, url: str) -> ProxiedImage:
    media = services.config.media
    try:
        data = await fetch_media(
            services.http,
            url,
            allow_private=services.config.address_scope,
            max_bytes=media.remote_max_bytes,
            timeout=media.proxy_timeout,
            content_types=DECLARED_TYPES,
        )
    except FetchError as exc:
        raise _answer(exc, media.proxy_timeout, media.remote_max_bytes) from exc
    return ProxiedImage(sniff(data, services.config.limits.media_pixels), data)


def _answer(exc: FetchError, timeout: float, max_bytes: int) -> DomainError:
    if exc.reason == "timed out":
        return GatewayTimeout(f"the image's server did not answer within {timeout:g} s")
    if exc.gone:
        return NotFound(f"the image is gone from its server (HTTP {exc.status})")
    if exc.reason == "too large":
        return BadGateway(f"the image is larger than {max_bytes} bytes (media.remote_max_bytes)")
    if exc.reason.startswith("wrong content type"):
        kind = exc.reason.removeprefix("wrong content type ")
        return BadGateway(f"not an image type we serve: {kind}")
    return BadGateway(f"the image could not be fetched: {exc}")


def sniff(data: bytes, max_pixels: int) -> str:
    """The content type of an image we serve, read from its bytes (the header only: the
    browser decodes it); BadGateway for anything else. SVG is never served (scripts)."""
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        raise BadGateway("not an image type we serve: SVG (it can carry scripts)")
    # Pillow is imported by the first proxied image, not by every server at start.
    from PIL import Image, UnidentifiedImageError

    from stgy.domain.media.images import FORMATS

    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            fmt = str(image.format)
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadGateway("the image has too many pixels (a decompression bomb)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        accepted = ", ".join(FORMATS)
        raise BadGateway(f"not an image of a format we serve ({accepted})") from None
    if width * height > max_pixels:
        raise BadGateway(f"{width}x{height} is more than {max_pixels} pixels (limits.media_pixels)")
    # A camera's multi-picture file is a JPEG.
    content_type, _ = FORMATS["JPEG" if fmt == "MPO" else fmt]
    return content_type
