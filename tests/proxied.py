"""What a page shows for a remote image: its source through the media proxy."""

from __future__ import annotations

import html
import re
from urllib.parse import quote


def proxied_src(page: str, url: str) -> str | None:
    """The `src` of an image on `page` that loads the remote `url` through this
    instance's media proxy (/media-proxy/<signature>?url=...), or None."""
    quoted = re.escape(html.escape(quote(url, safe="")))
    found = re.search(r'src="(/media-proxy/[A-Za-z0-9_-]{43}\?url=' + quoted + ')"', page)
    return html.unescape(found.group(1)) if found else None
