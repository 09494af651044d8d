"""The peer's own draft-cavage checker passes the draft's Appendix C vectors, so a signature
it accepts from us is a signature the draft accepts."""

from __future__ import annotations

import pytest

from tests.federation.test_cavage_vectors import (
    ALL_HEADERS,
    ALL_HEADERS_SIGNATURE,
    BODY,
    HEADERS,
    NOW,
    PUBLIC_KEY,
    TARGET,
)
from tests.interop import cavage

SIGNATURE = (
    f'keyId="Test",algorithm="rsa-sha256",headers="{ALL_HEADERS}",'
    f'signature="{ALL_HEADERS_SIGNATURE}"'
)


def check(headers: dict[str, str], body: bytes, target: str = TARGET) -> str:
    return cavage.verify(
        "POST", target, headers, body, {"Test": PUBLIC_KEY}, required=("digest",), now=NOW
    )


def test_appendix_c3_verifies() -> None:
    assert check(HEADERS | {"Signature": SIGNATURE}, BODY) == "Test"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Content-Length": "19"}, "signature does not verify"),
        ({"Host": "example.org"}, "signature does not verify"),
        ({"Digest": "SHA-256=" + "A" * 43 + "="}, "Digest does not match"),
    ],
)
def test_a_changed_header_fails(change: dict[str, str], reason: str) -> None:
    with pytest.raises(cavage.CavageError, match=reason):
        check(HEADERS | {"Signature": SIGNATURE} | change, BODY)


def test_a_changed_body_or_target_fails() -> None:
    with pytest.raises(cavage.CavageError, match="Digest does not match"):
        check(HEADERS | {"Signature": SIGNATURE}, BODY.replace(b"world", b"there"))
    with pytest.raises(cavage.CavageError, match="signature does not verify"):
        check(HEADERS | {"Signature": SIGNATURE}, BODY, target="/foo?param=value&pet=cat")


def test_what_mastodon_signs_is_required() -> None:
    with pytest.raises(cavage.CavageError, match="not covered: content-type"):
        cavage.verify(
            "POST", TARGET, HEADERS | {"Signature": SIGNATURE.replace(" content-type", "")}, BODY,
            {"Test": PUBLIC_KEY}, required=cavage.MASTODON_POST_HEADERS, now=NOW,
        )  # fmt: skip
