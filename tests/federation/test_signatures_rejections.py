"""HTTP Signatures, part two: what must be refused, and property tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation import rfc9421
from federation.digests import (
    make_content_digest,
    make_digest,
    verify_content_digest,
    verify_digest,
)
from federation.signatures import (
    SignatureError,
    VerifiedSignature,
    http_date,
    parse_signature_header,
    verify_request,
)
from tests.federation.test_signatures import (
    BODY,
    KEY,
    KEY_ID,
    NOW,
    OTHER_KEY,
    Resolver,
    both,
    private_pem,
    public_pem,
    reason,
    signed,
    verify,
)


@both
async def test_key_rotation_refetches_once(scheme: str) -> None:
    resolver = Resolver(public_pem(OTHER_KEY), public_pem(KEY))
    assert (await verify(signed(scheme), resolver=resolver)).key_id == KEY_ID
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@both
async def test_unknown_key(scheme: str) -> None:
    resolver = Resolver(None)
    assert await reason(signed(scheme), resolver=resolver) == "unknown key"
    assert resolver.calls == [(KEY_ID, False)]


async def test_unusable_key_pem_does_not_verify() -> None:
    resolver = Resolver("-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n")
    assert await reason(signed("cavage"), resolver=resolver) == "signature does not verify"


@both
async def test_request_target_changed(scheme: str) -> None:
    assert await reason(signed(scheme), target="/users/carol/inbox") == "signature does not verify"
    assert await reason(signed(scheme), method="PUT") == "signature does not verify"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        'keyId="k"',
        'signature="AAAA"',
        'keyId="k",signature="not base64!"',
        'keyId="k",signature="AAAA",headers=""',
        'keyId="k",signature="AAAA" extra',
        'keyId="k",keyId="k2",signature="AAAA"',
        'keyId="k,signature="AAAA"',
        'keyId="k",signature="AAAA",created=soon',
        '="k",signature="AAAA"',
    ],
)
def test_malformed_signature_headers(value: str) -> None:
    with pytest.raises(SignatureError) as error:
        parse_signature_header(value)
    assert error.value.reason == "malformed signature header"


def test_signature_header_parsing() -> None:
    parsed = parse_signature_header(
        ' keyId="https://a.example/u#k" , algorithm="RSA-SHA256",'
        'headers="(request-target) Host date",signature="AAAA",created=1402170695'
    )
    assert parsed.key_id == "https://a.example/u#k"
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.headers == ("(request-target)", "host", "date")
    assert parsed.signature == b"\0\0\0"
    assert parsed.created == "1402170695"
    assert parse_signature_header('keyId="k",signature="AAAA"').headers == ("(created)",)


async def test_unsupported_cavage_algorithm() -> None:
    headers = signed("cavage")
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hmac-sha256")
    assert await reason(headers) == "unsupported algorithm"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("Signature-Input", "sig1=(", "malformed Signature-Input"),
        ("Signature", "sig1=notbytes", "malformed Signature"),
        ("Signature", "other=:AAAA:", "no signature"),
        (
            "Signature-Input",
            'sig1=("@method");created=1;keyid="k";alg="hmac-sha256"',
            "unsupported algorithm",
        ),
        (
            "Signature-Input",
            'sig1=("@method" "@target-uri" "content-digest" "@method");created=1;keyid="k"',
            "malformed Signature-Input",
        ),
        (
            "Signature-Input",
            'sig1=("@method" "@target-uri" "content-digest" "@status");created=1;keyid="k"',
            "unsupported derived component",
        ),
        ("Signature-Input", 'sig1=("@method");created=1', "malformed Signature-Input"),
    ],
)
async def test_malformed_rfc9421_fields(field: str, value: str, expected: str) -> None:
    headers = signed("rfc9421") | {field: value}
    assert await reason(headers) == expected


async def test_rfc9421_query_parameters_must_be_present_and_single() -> None:
    added = rfc9421.sign_request(
        "POST",
        "https://stgy.example/users/bob/inbox?a=1&b=3",
        {},
        BODY,
        KEY_ID,
        private_pem(KEY),
        now=NOW,
        components=["@method", "@target-uri", "content-digest", '"@query-param";name="a"'],
    )
    headers = added | {"Host": "stgy.example"}
    assert (await verify(headers, target="/users/bob/inbox?a=1&b=3")).key_id == KEY_ID
    for target in ("/users/bob/inbox?a=1&a=2&b=3", "/users/bob/inbox?b=3"):
        assert await reason(headers, target=target) == "query parameter missing or repeated"


async def test_rfc9421_without_created_is_refused() -> None:
    headers = signed("rfc9421")
    headers["Signature-Input"] = headers["Signature-Input"].replace(";created=", ";c=")
    assert await reason(headers) == "created missing"


async def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        await verify(signed("cavage"), now=datetime(2025, 6, 1, 12))


def test_http_date_is_imf_fixdate() -> None:
    assert http_date(datetime(2014, 1, 5, 21, 31, 40, 123, tzinfo=UTC)) == (
        "Sun, 05 Jan 2014 21:31:40 GMT"
    )


# ---- digests ----------------------------------------------------------------


def test_digests_round_trip_and_refuse_other_bodies() -> None:
    assert verify_digest(make_digest(BODY), BODY)
    assert not verify_digest(make_digest(BODY), BODY + b" ")
    assert verify_content_digest(make_content_digest(BODY), BODY)
    assert not verify_content_digest(make_content_digest(BODY), b"")


def test_digest_algorithms_we_do_not_know_are_skipped_but_not_enough() -> None:
    assert not verify_digest("MD5=rL0Y20zC+Fzt72VPzMSk2A==", b"foo")
    assert verify_digest(f"MD5=rL0Y20zC+Fzt72VPzMSk2A==,{make_digest(b'foo')}", b"foo")
    assert not verify_content_digest("md5=:rL0Y20zC+Fzt72VPzMSk2A==:", b"foo")
    assert verify_content_digest(f"md5=:AAAA:, {make_content_digest(b'foo')}", b"foo")
    assert not verify_digest("SHA-256", b"foo")
    assert not verify_digest("SHA-256=***", b"foo")
    assert not verify_content_digest("sha-256=notbytes", b"foo")
    assert not verify_content_digest("((", b"foo")


# ---- properties -------------------------------------------------------------

_RESERVED = {"host", "date", "digest", "content-digest", "signature", "signature-input"}
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])
segments = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:@",
    min_size=1,
    max_size=12,
)
paths = st.lists(segments, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts))
queries = st.none() | st.text("abcxyz0123456789=&%+-_.", max_size=20)
header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True).filter(
    lambda name: name.lower() not in _RESERVED
)
header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
extra_headers = st.dictionaries(header_names, header_values, max_size=5).filter(
    lambda headers: len({name.lower() for name in headers}) == len(headers)
)


@settings(max_examples=60, deadline=None)
@given(
    scheme=st.sampled_from(["cavage", "rfc9421"]),
    method=methods,
    path=paths,
    query=queries,
    body=st.binary(min_size=1, max_size=300),
    headers=extra_headers,
    data=st.data(),
)
def test_sign_then_verify_holds_and_any_flipped_body_byte_breaks_it(
    scheme: str,
    method: str,
    path: str,
    query: str | None,
    body: bytes,
    headers: dict[str, str],
    data: st.DataObject,
) -> None:
    target = path + (f"?{query}" if query else "")
    request = signed(scheme, method, f"https://stgy.example{target}", body, headers)

    async def check(received: bytes) -> VerifiedSignature:
        resolver = Resolver(public_pem(KEY))
        return await verify_request(method, target, request, received, resolver, now=NOW)

    assert asyncio.run(check(body)).key_id == KEY_ID
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    flip = data.draw(st.integers(1, 255), label="flip")
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(SignatureError) as error:
        asyncio.run(check(changed))
    assert error.value.reason == "digest mismatch"
