"""draft-cavage-http-signatures-12 Appendix C: the test key, request and signatures, reproduced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from federation.digests import make_digest
from federation.signatures import (
    SignatureError,
    VerifiedSignature,
    sign_request,
    verify_request,
)

# Appendix C: the RSA key pair (1024-bit, test use only).
PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----
"""

# Appendix C: the test request.
URL = "https://example.com/foo?param=value&pet=dog"
TARGET = "/foo?param=value&pet=dog"
BODY = b'{"hello": "world"}'
HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)

# C.1, C.2 and C.3: the signature values the draft prints.
DEFAULT_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7"
    "q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
BASIC_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe"
    "8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
ALL_HEADERS_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEU"
    "HFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)
ALL_HEADERS = "(request-target) host date content-type digest content-length"


async def resolve_test_key(key_id: str, refresh: bool) -> str | None:
    return PUBLIC_KEY if key_id == "Test" else None


def signature_value(header: str) -> str:
    return header.rpartition('signature="')[2].rstrip('"')


async def verify(signature: str, required_headers: list[str] | None = None) -> VerifiedSignature:
    headers = HEADERS | {"Signature": signature}
    return await verify_request(
        "POST", TARGET, headers, BODY, resolve_test_key, now=NOW, required_headers=required_headers
    )


def test_the_test_request_digest_is_sha256_of_its_body() -> None:
    assert make_digest(BODY) == HEADERS["Digest"]


@pytest.mark.parametrize(
    ("signed_headers", "expected"),
    [
        (["date"], DEFAULT_SIGNATURE),  # C.1
        (["(request-target)", "host", "date"], BASIC_SIGNATURE),  # C.2
        (ALL_HEADERS.split(), ALL_HEADERS_SIGNATURE),  # C.3, see below
    ],
    ids=["C.1 default", "C.2 basic", "C.3 all headers"],
)
def test_signing_reproduces_the_drafts_signatures(signed_headers: list[str], expected: str) -> None:
    added = sign_request(
        "POST", URL, HEADERS, BODY, "Test", PRIVATE_KEY, signed_headers=signed_headers
    )
    assert signature_value(added["Signature"]) == expected
    assert f'headers="{" ".join(signed_headers)}"' in added["Signature"]
    assert added["Digest"] == HEADERS["Digest"]
    assert "Date" not in added  # the request has one


async def test_c1_default_test_verifies_with_date_as_the_default_header() -> None:
    # C.1 omits `headers`: for rsa-sha256 that means "date", as the draft's
    # example and Mastodon have it (draft-12's text says "(created)").
    header = f'keyId="Test",algorithm="rsa-sha256",signature="{DEFAULT_SIGNATURE}"'
    verified = await verify(header, required_headers=["date"])
    assert (verified.key_id, verified.algorithm, verified.covered) == (
        "Test",
        "rsa-sha256",
        ("date",),
    )


async def test_c1_alone_is_not_enough_for_a_post_by_default() -> None:
    header = f'keyId="Test",algorithm="rsa-sha256",signature="{DEFAULT_SIGNATURE}"'
    with pytest.raises(SignatureError) as error:
        await verify(header)
    assert error.value.reason == "header (request-target) not signed"


async def test_c2_basic_test_verifies() -> None:
    header = (
        'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
        f'signature="{BASIC_SIGNATURE}"'
    )
    verified = await verify(header, required_headers=["(request-target)", "host", "date"])
    assert (verified.key_id, verified.scheme) == ("Test", "cavage")
    with pytest.raises(SignatureError) as error:
        await verify(header)  # a body needs a signed digest
    assert error.value.reason == "header digest not signed"


async def test_c3_all_headers_test_verifies() -> None:
    header = (
        f'keyId="Test",algorithm="rsa-sha256",headers="{ALL_HEADERS}",'
        f'signature="{ALL_HEADERS_SIGNATURE}"'
    )
    verified = await verify(header)
    assert verified.covered == tuple(ALL_HEADERS.split())


async def test_c3_as_printed_is_refused_for_signing_created_with_rsa_sha256() -> None:
    # The draft prints C.3 with (created) and (expires) in `headers`, but its
    # signature is over the list without them, and section 2.3 forbids those
    # pseudo-headers with rsa-sha256 anyway. We follow section 2.3 (as Mastodon).
    header = (
        'keyId="Test",algorithm="rsa-sha256",created=1402170695,expires=1402170699,'
        'headers="(request-target) (created) (expires) host date content-type digest '
        f'content-length",signature="{ALL_HEADERS_SIGNATURE}"'
    )
    with pytest.raises(SignatureError) as error:
        await verify(header)
    assert error.value.reason == "(created) not allowed with rsa-sha256"


async def test_a_vector_fails_once_the_request_changes() -> None:
    header = (
        f'keyId="Test",algorithm="rsa-sha256",headers="{ALL_HEADERS}",'
        f'signature="{ALL_HEADERS_SIGNATURE}"'
    )
    with pytest.raises(SignatureError) as error:
        await verify_request(
            "POST",
            "/foo?param=value&pet=cat",
            HEADERS | {"Signature": header},
            BODY,
            resolve_test_key,
            now=NOW,
        )
    assert error.value.reason == "signature does not verify"
