"""Static files of the web face: our own (stgy/web/static) and an allow-list from node_modules.

Every URL carries the file's content hash (`?v=`): a request with the current hash is
cached for a year as immutable, any other is revalidated by its ETag (the same hash).
Third-party files are never committed: they come from `npm ci` into node_modules, and a
missing one is simply left out of the page (the site works without it).
"""

from __future__ import annotations

import hashlib
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path

from quart import Blueprint, Response, current_app, request
from werkzeug.exceptions import NotFound

OWN_DIR = Path(__file__).resolve().parent / "static"
# The repository root's node_modules (in the image: /app/node_modules, made by npm ci).
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_PREFIX = "vendor/"
# The only files of node_modules we serve: URL name -> path inside node_modules.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js": "swagger-ui-dist/swagger-ui-standalone-preset.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
IMMUTABLE = "public, max-age=31536000, immutable"

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class _Stamp:
    mtime_ns: int
    size: int
    digest: str


_DIGESTS: dict[Path, _Stamp] = {}


def asset_path(name: str) -> Path | None:
    """The file behind `/static/<name>`, or None when there is none we serve."""
    if name.startswith(VENDOR_PREFIX):
        inside = VENDOR_FILES.get(name.removeprefix(VENDOR_PREFIX))
        path = NODE_MODULES / inside if inside is not None else None
    else:
        path = (OWN_DIR / name).resolve()
        if not path.is_relative_to(OWN_DIR):
            return None
    return path if path is not None and path.is_file() else None


def digest_of(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256, remembered until the file changes."""
    stat = path.stat()
    known = _DIGESTS.get(path)
    if known is not None and (known.mtime_ns, known.size) == (stat.st_mtime_ns, stat.st_size):
        return known.digest
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    _DIGESTS[path] = _Stamp(stat.st_mtime_ns, stat.st_size, digest)
    return digest


# Every page links four files: their URLs are looked up again at most this often (seconds),
# so an edited file gets its new hash within a second, without a stat per link.
_URL_TTL = 1.0
_URLS: dict[tuple[Path, str], tuple[float, str | None]] = {}


def asset_url(name: str) -> str | None:
    """`/static/<name>?v=<hash>`, or None when the file is missing (npm never ran)."""
    now = time.monotonic()
    key = (NODE_MODULES, name)  # where vendor files are looked for is part of the answer
    known = _URLS.get(key)
    if known is not None and now - known[0] < _URL_TTL:
        return known[1]
    path = asset_path(name)
    url = None if path is None else f"/static/{name}?v={digest_of(path)}"
    if len(_URLS) < 1000:  # names come from templates only; bounded all the same
        _URLS[key] = (now, url)
    return url


def vendor_missing() -> list[str]:
    """The allow-listed files node_modules lacks (all of them when npm ci never ran)."""
    return [name for name, inside in VENDOR_FILES.items() if not (NODE_MODULES / inside).is_file()]


@bp.get("/static/<path:name>")
async def static_file(name: str) -> Response:
    path = asset_path(name)
    if path is None:
        raise NotFound()
    digest = digest_of(path)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response_class = current_app.response_class
    response = response_class(response_class.file_body_class(path), mimetype=mimetype)
    response.content_length = path.stat().st_size
    response.set_etag(digest)
    if request.args.get("v") == digest:
        response.headers["Cache-Control"] = IMMUTABLE
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    await response.make_conditional(request)
    return response
