"""Pure parts of media: BlurHash, Pillow checks and renditions, AS2 attachments."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from federation.attachments import Attachment, attachment_object, parse_attachments
from stgy.domain.errors import Invalid
from stgy.domain.media import blurhash, formats, images
from stgy.domain.media.uploads import parse_focus
from tests.integration.media_support import GPS_IFD, animated_gif, huge_png, photo

SIZES = images.Sizes(large=1280, small=400, avatar=400, jpeg_quality=85)


def gradient(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1), ((x + y) * 7) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


# Computed by the reference C implementation (woltapp/blurhash, as packaged in blurhash-python).
@pytest.mark.parametrize(
    ("size", "components", "expected"),
    [
        ((32, 24), (4, 3), "L$Hewg2nwsX5l|W7jwe@gGfifUff"),
        ((1, 1), (1, 1), "000000"),
        ((64, 64), (5, 2), "D$HV9y2Y$6Sen}hpaxjsf4fS"),
    ],
)
def test_blurhash_matches_the_reference(
    size: tuple[int, int], components: tuple[int, int], expected: str
) -> None:
    assert blurhash.encode(gradient(*size), *components) == expected


def test_blurhash_refuses_bad_components() -> None:
    with pytest.raises(ValueError):
        blurhash.encode(gradient(4, 4), 0, 3)


def test_render_applies_orientation_and_strips_metadata() -> None:
    made = images.render(
        photo(2000, 1500), purpose="attachment", focus=(0, 0), sizes=SIZES, max_pixels=10**8
    )
    for encoded, longest in ((made.original, 2000), (made.large, 1280), (made.small, 400)):
        image = Image.open(io.BytesIO(encoded.data))
        assert image.height == longest and image.width == longest * 3 // 4
        exif = image.getexif()
        assert GPS_IFD not in exif and 0x0112 not in exif and 0x010F not in exif
    assert len(made.blurhash) == 4 + 2 * 4 * 3 and not made.animated


def test_avatar_is_square_around_the_focus() -> None:
    wide = Image.new("RGB", (900, 300), (255, 0, 0))
    wide.paste((0, 0, 255), (600, 0, 900, 300))  # the right third is blue
    out = io.BytesIO()
    wide.save(out, "PNG")
    made = images.render(
        out.getvalue(), purpose="avatar", focus=(1.0, 0.0), sizes=SIZES, max_pixels=10**7
    )
    avatar = Image.open(io.BytesIO(made.original.data)).convert("RGB")
    assert avatar.size == (300, 300)
    assert avatar.getpixel((150, 150)) == (0, 0, 255)


def test_animation_is_kept_in_the_original_only() -> None:
    made = images.render(
        animated_gif(5), purpose="attachment", focus=(0, 0), sizes=SIZES, max_pixels=10**7
    )
    assert made.animated and Image.open(io.BytesIO(made.original.data)).n_frames == 5
    assert made.large.content_type == "image/jpeg"
    with pytest.raises(images.ImageRejected, match="frames"):
        images.probe(animated_gif(5, (100, 100)), max_pixels=40_000)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_an_image"),
        (b"  \n<?xml version='1.0'?><svg/>", "not_an_image"),
        (b"%PDF-1.7 pretend", "not_an_image"),
        (photo(200, 100)[:700], "corrupt"),
        (huge_png(12_000, 10_000), "too_many_pixels"),
    ],
)
def test_probe_refusals(data: bytes, kind: str) -> None:
    with pytest.raises(images.ImageRejected) as caught:
        images.probe(data, max_pixels=50_000_000)
    assert caught.value.kind == kind


def test_focus_parsing() -> None:
    assert parse_focus("0.5,-1") == (0.5, -1.0)
    assert parse_focus(None) is None and parse_focus("") is None
    for bad in ("1", "1,2", "a,b", "nan,0", "inf,0", "0,,0", "1e0,0"):
        with pytest.raises(Invalid):
            parse_focus(bad)


def test_attachment_round_trip() -> None:
    ours = Attachment(
        url="https://a.example/m/1.jpg",
        media_type="image/jpeg",
        name="alt",
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        width=10,
        height=20,
        focal_point=(0.25, -0.5),
    )
    rendered = attachment_object(ours)
    assert rendered["type"] == "Document" and rendered["focalPoint"] == [0.25, -0.5]
    assert parse_attachments([rendered]) == [ours]


def test_attachment_parsing_drops_what_cannot_be_shown() -> None:
    parsed = parse_attachments(
        [
            {"type": "Image", "url": "javascript:alert(1)"},
            {"type": "Image", "url": "data:image/png;base64,AAAA"},
            {"type": "Note", "url": "https://a.example/n"},
            {
                "type": "Image",
                "url": [
                    {"type": "Link", "href": "https://a.example/i.png", "mediaType": "image/png"}
                ],
                "width": True,
                "height": 5,
                "blurhash": "<script>",
                "focalPoint": [3, 0],
                "name": 7,
            },
        ]
        + [{"type": "Document", "url": f"https://a.example/{i}.jpg"} for i in range(6)]
    )
    assert len(parsed) == 4
    first = parsed[0]
    assert first.url == "https://a.example/i.png" and first.media_type == "image/png"
    assert first.width is None and first.height is None and first.blurhash is None
    assert first.focal_point is None and first.name == ""


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "type",
                        "url",
                        "href",
                        "mediaType",
                        "name",
                        "width",
                        "height",
                        "blurhash",
                        "focalPoint",
                    ]
                ),
                inner,
                max_size=6,
            )
        ),
        max_leaves=20,
    )
)
def test_attachment_parser_never_fails(value: object) -> None:
    for found in parse_attachments(value):
        assert found.url.startswith(("http://", "https://"))


def test_formats_known_without_pillow_are_pillows() -> None:
    """formats.py says what is accepted without loading Pillow; Pillow agrees."""
    from PIL import Image

    registered = set(Image.registered_extensions().values())
    assert set(formats.FORMATS) <= registered
    assert ("AVIF" in formats.FORMATS) == ("AVIF" in registered)
    assert images.FORMATS is formats.FORMATS
