"""Signing then verifying, and every way verification must refuse a request."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import rfc9421
from federation.digests import (
    make_digest,
)
from federation.signatures import (
    SignatureError,
    VerifiedSignature,
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
