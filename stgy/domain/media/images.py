"""Image work with Pillow: sniff and check an upload, then make its renditions.

Plain functions of bytes, CPU-bound: callers run them in a thread. Every
rendition is re-encoded from decoded pixels with EXIF orientation applied, so no
metadata of the upload (EXIF, GPS, XMP, comments) survives; ICC colour profiles
are kept.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from stgy.domain.media import blurhash, formats

# What is accepted (known without Pillow, for the faces that only say it).
FORMATS = formats.FORMATS
CONTENT_TYPES = formats.CONTENT_TYPES
TYPE_ALIASES = formats.TYPE_ALIASES
BLURHASH_COMPONENTS = (4, 3)

# Pillow warns (and past twice its limit, raises) on images big enough to be decompression
# bombs; our own pixel limit comes first, and a warning must refuse, not just log.
warnings.simplefilter("error", Image.DecompressionBombWarning)


class ImageRejected(Exception):
    """An upload we do not take: `kind` says how the API answers (see stgy.domain.media.uploads)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind  # not_an_image | too_many_pixels | corrupt
        self.reason = reason


@dataclass(frozen=True)
class Probe:
    format: str
    content_type: str
    width: int
    height: int
    frames: int


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class Rendered:
    original: Encoded
    large: Encoded
    small: Encoded
    blurhash: str
    animated: bool


@dataclass(frozen=True)
class Sizes:
    large: int
    small: int
    avatar: int
    jpeg_quality: int


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def probe(data: bytes, *, max_pixels: int) -> Probe:
    """Identify the image and decode it once (to find truncation); ImageRejected if unfit."""
    if _looks_like_svg(data):
        raise ImageRejected("not_an_image", "SVG is not accepted (it can carry scripts)")
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(
                    "too_many_pixels",
                    f"{width}x{height} is more than {max_pixels} pixels (limits.media_pixels)",
                )
            fmt = str(image.format)
            # A camera's multi-picture JPEG: the first picture is the photo.
            frames = 1 if fmt == "MPO" else int(getattr(image, "n_frames", 1))
            if frames > 1 and width * height * frames > max_pixels:
                raise ImageRejected(
                    "too_many_pixels",
                    f"{frames} frames of {width}x{height} are more than {max_pixels} pixels"
                    " in all (limits.media_pixels)",
                )
            if fmt in ("JPEG", "MPO"):
                # Scaled decoding still reads every byte of the scan, cheaply.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
            if frames > 1:
                image.seek(frames - 1)
                image.load()
    except ImageRejected:
        raise
    except UnidentifiedImageError:
        raise ImageRejected(
            "not_an_image", "not an image of an accepted format (" + ", ".join(FORMATS) + ")"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels", "too many pixels (a decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise ImageRejected("corrupt", f"the image data is truncated or corrupt ({exc})") from None
    fmt = "JPEG" if fmt == "MPO" else fmt
    content_type, _ = FORMATS[fmt]
    return Probe(fmt, content_type, width, height, frames)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def _clean(image: Image.Image) -> Image.Image:
    """Orientation applied, pixels only: RGB or RGBA, no metadata."""
    upright = ImageOps.exif_transpose(image)
    mode = "RGBA" if _has_alpha(upright) else "RGB"
    # exif_transpose already made a copy; convert makes one only when it must.
    clean = upright if upright.mode == mode and upright is not image else upright.convert(mode)
    clean.info = {}
    return clean


def _encode(
    image: Image.Image, fmt: str, quality: int, icc: bytes | None, *, big: bool = False
) -> Encoded:
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        image = image.convert("RGB") if image.mode != "RGB" else image
        # Progressive costs as much again as the encoding on a big original; previews get it.
        options.update(quality=quality, optimize=True, progressive=not big)
    elif fmt == "WEBP":
        options.update(quality=quality, method=4)
    elif fmt == "AVIF":
        options.update(quality=quality, speed=8)
    elif fmt == "PNG":
        options.update(compress_level=6)
    elif fmt == "GIF":
        options.pop("icc_profile", None)
        image = image.convert("P", palette=Image.Palette.ADAPTIVE) if image.mode != "P" else image
    image.save(out, format=fmt, **options)
    content_type, extension = FORMATS[fmt]
    return Encoded(out.getvalue(), content_type, extension, image.width, image.height)


def _encode_animation(image: Image.Image, fmt: str, quality: int) -> Encoded:
    """All frames, re-encoded in the upload's format; timing and looping kept."""
    frames = []
    durations = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        frames.append(frame.convert("RGBA"))
    for frame in frames:
        frame.info = {}
    out = io.BytesIO()
    options: dict[str, Any] = {"loop": int(image.info.get("loop", 0)), "duration": durations}
    if fmt == "GIF":
        options["disposal"] = 2
    elif fmt == "WEBP":
        options["quality"] = quality
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], **options)
    content_type, extension = FORMATS[fmt]
    return Encoded(out.getvalue(), content_type, extension, frames[0].width, frames[0].height)


def _square(image: Image.Image, focus: tuple[float, float]) -> Image.Image:
    """The largest square around the focal point (x right, y up, each in -1..1)."""
    side = min(image.size)
    centre_x = (focus[0] + 1) / 2 * image.width
    centre_y = (1 - focus[1]) / 2 * image.height
    left = int(min(max(centre_x - side / 2, 0), image.width - side))
    top = int(min(max(centre_y - side / 2, 0), image.height - side))
    return image.crop((left, top, left + side, top + side))


def _fit(image: Image.Image, longest: int) -> Image.Image:
    if max(image.size) <= longest:
        return image
    scale = longest / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Box-reduced first to 1.5 times the size, then Lanczos: a third of the time of
    # Lanczos from the full size, with no difference to see at these sizes.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.5)


def _preview_format(image: Image.Image) -> str:
    return "WEBP" if image.mode == "RGBA" else "JPEG"


def compute_blurhash(image: Image.Image) -> str:
    tiny = image.convert("RGB")
    tiny.thumbnail((64, 64), Image.Resampling.BILINEAR)
    x_components, y_components = BLURHASH_COMPONENTS
    return str(blurhash.encode(tiny, x_components, y_components))


def render(
    data: bytes, *, purpose: str, focus: tuple[float, float], sizes: Sizes, max_pixels: int
) -> Rendered:
    """The original (re-encoded), `large` and `small` renditions and a blurhash.

    Avatars are cropped square around the focal point and at most `sizes.avatar`
    wide. An animated attachment keeps every frame in its original; `large` and
    `small` show the first frame.
    """
    found = probe(data, max_pixels=max_pixels)
    quality = sizes.jpeg_quality
    with Image.open(io.BytesIO(data), formats=[found.format]) as image:
        icc = image.info.get("icc_profile")
        animated = found.frames > 1 and purpose == "attachment"
        original_animation = _encode_animation(image, found.format, quality) if animated else None
        image.seek(0)
        pixels = _clean(image)
    if purpose == "avatar":
        pixels = _fit(_square(pixels, focus), sizes.avatar)
    if original_animation is not None:
        original = original_animation
    else:
        fmt = found.format if found.format != "GIF" or pixels.mode != "RGBA" else "PNG"
        original = _encode(pixels, fmt, quality, icc, big=True)
    large_pixels = _fit(pixels, sizes.large)
    small_pixels = _fit(large_pixels, sizes.small)
    fmt = _preview_format(pixels)
    return Rendered(
        original=original,
        large=_encode(large_pixels, fmt, quality, icc),
        small=_encode(small_pixels, fmt, quality, icc),
        blurhash=compute_blurhash(small_pixels),
        animated=animated,
    )
