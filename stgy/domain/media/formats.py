"""The image formats uploads may be in, known without loading Pillow (the server
answers what it accepts, e.g. Mastodon's instance document, long before anyone uploads;
Pillow and its plugins are a few MB a process needs only to read an image)."""

from __future__ import annotations

from importlib.util import find_spec

# Formats accepted, by Pillow's name: their content type and file extension.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# AVIF when this Pillow was built with it (its plugin registers only then).
if find_spec("PIL._avif") is not None:
    FORMATS["AVIF"] = ("image/avif", "avif")
CONTENT_TYPES = {content_type for content_type, _ in FORMATS.values()}
# Names clients send for the same types.
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
