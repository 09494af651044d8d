"""Attachments of Notes: ours rendered as Mastodon renders them, theirs parsed and checked.

We send `{"type": "Document", "mediaType", "url", "name", "blurhash", "width",
"height", "focalPoint"}`; we read Document, Image, Video and Audio objects whose
`url` is an http(s) URL (a string, a Link, or a list of those).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ATTACHMENT_TYPES = frozenset({"Document", "Image", "Video", "Audio"})
MAX_ATTACHMENTS = 4
MAX_URL = 2048
MAX_NAME = 1500
MAX_SIDE = 100_000
_BLURHASH = re.compile(r"^[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,100}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str | None = None
    name: str = ""  # the alt text
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    focal_point: tuple[float, float] | None = None
    type: str = "Document"


def attachment_object(attachment: Attachment) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": attachment.type}
    if attachment.media_type:
        obj["mediaType"] = attachment.media_type
    obj["url"] = attachment.url
    obj["name"] = attachment.name or None
    if attachment.blurhash:
        obj["blurhash"] = attachment.blurhash
    if attachment.focal_point is not None:
        obj["focalPoint"] = list(attachment.focal_point)
    if attachment.width is not None and attachment.height is not None:
        obj["width"] = attachment.width
        obj["height"] = attachment.height
    return obj


def is_http_url(value: object) -> bool:
    """An absolute http(s) URL with a host, of a sane length."""
    if not isinstance(value, str) or len(value) > MAX_URL:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _link(value: object) -> tuple[str | None, str | None]:
    """(URL, its mediaType) of a URL string, a Link, or the first usable of a list."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and is_http_url(item):
            return item, None
        if isinstance(item, dict) and is_http_url(item.get("href")):
            media_type = item.get("mediaType")
            return item["href"], media_type if isinstance(media_type, str) else None
    return None, None


def _side(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_SIDE else None


def _focal_point(value: object) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    point = []
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            return None
        if not math.isfinite(number) or not -1 <= number <= 1:
            return None
        point.append(float(number))
    return point[0], point[1]


def parse_attachment(value: object) -> Attachment | None:
    """One attachment of a remote Note, or None when it is not one we can show."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in ATTACHMENT_TYPES:
        return None
    url, link_type = _link(value.get("url"))
    if url is None:
        return None
    media_type = value.get("mediaType")
    if not isinstance(media_type, str):
        media_type = link_type
    if media_type is not None:
        media_type = media_type.split(";", 1)[0].strip().lower()
        if not _MEDIA_TYPE.match(media_type):
            media_type = None
    name = value.get("name")
    blurhash = value.get("blurhash")
    width, height = _side(value.get("width")), _side(value.get("height"))
    if width is None or height is None:
        width = height = None
    return Attachment(
        url=url,
        media_type=media_type,
        name=name[:MAX_NAME] if isinstance(name, str) else "",
        blurhash=blurhash if isinstance(blurhash, str) and _BLURHASH.match(blurhash) else None,
        width=width,
        height=height,
        focal_point=_focal_point(value.get("focalPoint")),
        type=kind,
    )


def parse_attachments(value: object) -> list[Attachment]:
    """The first MAX_ATTACHMENTS usable attachments of a Note's `attachment`."""
    found = []
    for item in value if isinstance(value, list) else [value]:
        attachment = parse_attachment(item)
        if attachment is not None:
            found.append(attachment)
        if len(found) == MAX_ATTACHMENTS:
            break
    return found
