"""Signing then verifying, and every way verification must refuse a request."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
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
    sign_request,
    verify_request,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
KEY_ID = "https://remote.example/users/alice#main-key"
INBOX = "https://stgy.example/users/bob/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.example/users/alice"}'


def private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()


class Resolver:
    """A key resolver that records its calls: the first answer, then the refreshed one."""

    def __init__(self, first: str | None, refreshed: str | None = None) -> None:
        self.answers = {False: first, True: refreshed}
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, refresh: bool) -> str | None:
        self.calls.append((key_id, refresh))
        return self.answers[refresh]


Signer = Callable[..., dict[str, str]]
SCHEMES: dict[str, Signer] = {"cavage": sign_request, "rfc9421": rfc9421.sign_request}


def signed(
    scheme: str,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = BODY,
    headers: dict[str, str] | None = None,
    *,
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = KEY,
    now: datetime = NOW,
) -> dict[str, str]:
    """The request headers as they arrive: the caller's, the added ones, and Host."""
    given_headers = {"Content-Type": "application/activity+json"} | (headers or {})
    added = SCHEMES[scheme](method, url, given_headers, body, KEY_ID, private_pem(key), now=now)
    return {"Host": "stgy.example"} | given_headers | added


async def verify(
    headers: dict[str, str],
    body: bytes | None = BODY,
    resolver: Resolver | None = None,
    *,
    method: str = "POST",
    target: str = "/users/bob/inbox",
    now: datetime = NOW,
) -> VerifiedSignature:
    resolver = resolver or Resolver(public_pem(KEY))
    return await verify_request(method, target, headers, body, resolver, now=now)


async def reason(headers: dict[str, str], body: bytes | None = BODY, **options: object) -> str:
    with pytest.raises(SignatureError) as error:
        await verify(headers, body, **options)  # type: ignore[arg-type]
    return error.value.reason


both = pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])


# ---- round trips ------------------------------------------------------------


@both
async def test_a_signed_post_verifies(scheme: str) -> None:
    resolver = Resolver(public_pem(KEY))
    verified = await verify(signed(scheme), resolver=resolver)
    assert (verified.key_id, verified.scheme) == (KEY_ID, scheme)
    assert resolver.calls == [(KEY_ID, False)]  # no refetch when the cached key verifies


@both
async def test_a_signed_get_verifies(scheme: str) -> None:
    url = "https://stgy.example/users/bob/outbox?page=2&min_id=1"
    headers = signed(scheme, "GET", url, None, {"Accept": "application/activity+json"})
    verified = await verify(headers, None, method="GET", target="/users/bob/outbox?page=2&min_id=1")
    assert verified.key_id == KEY_ID


def test_cavage_signs_what_mastodon_expects() -> None:
    post = signed("cavage")
    assert post["Date"] == "Sun, 01 Jun 2025 12:00:00 GMT"
    assert post["Digest"] == make_digest(BODY)
    parsed = parse_signature_header(post["Signature"])
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.headers == ("(request-target)", "host", "date", "digest", "content-type")
    get = signed("cavage", "GET", body=None, headers={"Accept": "application/activity+json"})
    assert "Digest" not in get
    assert parse_signature_header(get["Signature"]).headers == (
        "(request-target)",
        "host",
        "date",
        "accept",
    )


async def test_cavage_with_an_ed25519_key_is_hs2019() -> None:
    headers = signed("cavage", key=ED_KEY)
    assert parse_signature_header(headers["Signature"]).algorithm == "hs2019"
    verified = await verify(headers, resolver=Resolver(public_pem(ED_KEY)))
    assert verified.algorithm == "hs2019"


async def test_hs2019_with_created_and_expires_is_honoured() -> None:
    data = "\n".join(
        [
            "(request-target): post /users/bob/inbox",
            f"(created): {int(NOW.timestamp())}",
            f"(expires): {int(NOW.timestamp()) + 300}",
            "host: stgy.example",
            f"digest: {make_digest(BODY)}",
        ]
    ).encode()
    signature = base64.b64encode(ED_KEY.sign(data)).decode()
    headers = {
        "Host": "stgy.example",
        "Digest": make_digest(BODY),
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="hs2019",created={int(NOW.timestamp())},'
            f"expires={int(NOW.timestamp()) + 300},"
            'headers="(request-target) (created) (expires) host digest",'
            f'signature="{signature}"'
        ),
    }
    resolver = Resolver(public_pem(ED_KEY))
    assert (await verify(headers, resolver=resolver)).key_id == KEY_ID
    later = NOW + timedelta(minutes=5, hours=1, seconds=1)
    assert await reason(headers, resolver=resolver, now=later) == "signature expired"


# ---- refusals ---------------------------------------------------------------


async def test_no_signature_header() -> None:
    headers = signed("cavage")
    del headers["Signature"]
    assert await reason(headers) == "no signature"


@both
async def test_body_changed_after_signing(scheme: str) -> None:
    assert await reason(signed(scheme), BODY.replace(b"Follow", b"Block")) == "digest mismatch"


async def test_digest_header_missing_on_post() -> None:
    headers = signed("cavage")
    del headers["Digest"]
    assert await reason(headers) == "header digest missing"


@both
async def test_digest_not_signed_on_post(scheme: str) -> None:
    if scheme == "cavage":
        added = sign_request(
            "POST",
            INBOX,
            {},
            BODY,
            KEY_ID,
            private_pem(KEY),
            now=NOW,
            signed_headers=["(request-target)", "host", "date"],
        )
    else:
        added = rfc9421.sign_request(
            "POST",
            INBOX,
            {},
            BODY,
            KEY_ID,
            private_pem(KEY),
            now=NOW,
            components=["@method", "@target-uri"],
        )
    assert await reason(added | {"Host": "stgy.example"}) == "header digest not signed"


@both
@pytest.mark.parametrize(
    ("age", "expected"),
    [(timedelta(hours=13), "too old"), (-timedelta(hours=2), "in the future")],
    ids=["13 h old", "2 h ahead"],
)
async def test_signed_time_outside_the_window(scheme: str, age: timedelta, expected: str) -> None:
    headers = signed(scheme, now=NOW - age)
    what = "date" if scheme == "cavage" else "created"
    assert await reason(headers) == f"{what} {expected}"


@both
async def test_signed_time_at_the_edges_of_the_window_is_accepted(scheme: str) -> None:
    for age in (timedelta(hours=12), -timedelta(hours=1)):
        assert (await verify(signed(scheme, now=NOW - age))).key_id == KEY_ID


async def test_host_not_signed() -> None:
    added = sign_request(
        "POST",
        INBOX,
        {},
        BODY,
        KEY_ID,
        private_pem(KEY),
        now=NOW,
        signed_headers=["(request-target)", "date", "digest"],
    )
    assert await reason(added) == "header host not signed"


async def test_authority_not_signed_in_rfc9421() -> None:
    added = rfc9421.sign_request(
        "POST",
        INBOX,
        {},
        BODY,
        KEY_ID,
        private_pem(KEY),
        now=NOW,
        components=["@method", "@path", "@query", "content-digest"],
    )
    assert await reason(added | {"Host": "stgy.example"}) == "header host not signed"


@both
async def test_wrong_key_fails_even_after_refresh(scheme: str) -> None:
    resolver = Resolver(public_pem(OTHER_KEY), public_pem(OTHER_KEY))
    assert await reason(signed(scheme), resolver=resolver) == "signature does not verify"
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


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
