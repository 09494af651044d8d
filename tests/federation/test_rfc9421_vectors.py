"""RFC 9421 Appendix B.2 examples, and our signatures checked by an independent implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from federation import rfc9421
from federation.signatures import SignatureError, VerifiedSignature, http_date, verify_request

# Appendix B.1.2 and B.1.4: the test keys we need.
RSA_PSS_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
"""
ED25519_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
ED25519_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
TEST_KEYS = {"test-key-rsa-pss": RSA_PSS_PUBLIC_KEY, "test-key-ed25519": ED25519_PUBLIC_KEY}

# Appendix B.2: the test request.
URL = "https://example.com/foo?param=Value&Pet=dog"
TARGET = "/foo?param=Value&Pet=dog"
BODY = b'{"hello": "world"}'
HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJ"
        "wew==:"
    ),
    "Content-Length": "18",
}
CREATED = datetime.fromtimestamp(1618884473, UTC)

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGx"
    "btRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2"
    "VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnL"
    "H1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473'
    ';keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJ"
    "yE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhp"
    "TlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBV"
    "kSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:"
)
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
    '"content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+q"
    "RpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh"
    "/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+Q"
    "IF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B26_COMPONENTS = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw"
    "==:"
)


async def resolve_test_key(key_id: str, refresh: bool) -> str | None:
    return TEST_KEYS.get(key_id)


async def verify_vector(
    signature_input: str, signature: str, *, method: str = "POST", target: str = TARGET
) -> VerifiedSignature:
    headers = HEADERS | {"Signature-Input": signature_input, "Signature": signature}
    return await verify_request(
        method, target, headers, BODY, resolve_test_key, now=CREATED, required_headers=()
    )


def test_b26_ed25519_signing_reproduces_the_rfcs_signature() -> None:
    added = rfc9421.sign_request(
        "POST",
        URL,
        HEADERS,
        None,
        "test-key-ed25519",
        ED25519_PRIVATE_KEY,
        now=CREATED,
        label="sig-b26",
        components=B26_COMPONENTS,
        include_alg=False,
    )
    assert added == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}


@pytest.mark.parametrize(
    ("signature_input", "signature", "algorithm"),
    [
        (B21_INPUT, B21_SIGNATURE, "rsa-pss-sha512"),
        (B22_INPUT, B22_SIGNATURE, "rsa-pss-sha512"),
        (B23_INPUT, B23_SIGNATURE, "rsa-pss-sha512"),
        (B26_INPUT, B26_SIGNATURE, "ed25519"),
    ],
    ids=["B.2.1 minimal", "B.2.2 selective", "B.2.3 full", "B.2.6 ed25519"],
)
async def test_the_rfcs_signatures_verify(
    signature_input: str, signature: str, algorithm: str
) -> None:
    verified = await verify_vector(signature_input, signature)
    assert verified.scheme == "rfc9421"
    assert verified.key_id in TEST_KEYS
    assert verified.algorithm == algorithm  # none of them names an alg: the key decides


async def test_b22_covers_the_pet_query_parameter() -> None:
    with pytest.raises(SignatureError) as error:
        await verify_vector(B22_INPUT, B22_SIGNATURE, target="/foo?param=Value&Pet=cat")
    assert error.value.reason == "signature does not verify"


async def test_b23_covers_the_method() -> None:
    with pytest.raises(SignatureError) as error:
        await verify_vector(B23_INPUT, B23_SIGNATURE, method="PUT")
    assert error.value.reason == "signature does not verify"


async def test_b26_does_not_verify_with_a_changed_date() -> None:
    headers = HEADERS | {
        "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
        "Signature-Input": B26_INPUT,
        "Signature": B26_SIGNATURE,
    }
    with pytest.raises(SignatureError) as error:
        await verify_request(
            "POST", TARGET, headers, BODY, resolve_test_key, now=CREATED, required_headers=()
        )
    assert error.value.reason == "signature does not verify"


async def test_an_rfc_vector_is_too_old_today() -> None:
    headers = HEADERS | {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    today = datetime.now(UTC)
    with pytest.raises(SignatureError) as error:
        await verify_request(
            "POST", TARGET, headers, BODY, resolve_test_key, now=today, required_headers=()
        )
    assert error.value.reason == "created too old"


# ---- cross-checks with http-message-signatures ------------------------------


@dataclass
class Message:
    """The request shape http-message-signatures reads: method, url, headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def pem_of(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem_of(
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_ID = "https://stgy.example/users/alice#main-key"
ACTIVITY = b'{"type":"Create","actor":"https://stgy.example/users/alice"}'
INBOX = "https://mastodon.example/users/bob/inbox?x=1&y=two%20words"


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        (RSA_KEY, algorithms.RSA_V1_5_SHA256),
        (ed25519.Ed25519PrivateKey.generate(), algorithms.ED25519),
        (ec.generate_private_key(ec.SECP256R1()), algorithms.ECDSA_P256_SHA256),
    ],
    ids=["rsa-v1_5-sha256", "ed25519", "ecdsa-p256-sha256"],
)
def test_our_signature_verifies_with_http_message_signatures(
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
    algorithm: type[algorithms.HTTPSignatureAlgorithm],
) -> None:
    headers = {"Content-Type": "application/activity+json"}
    added = rfc9421.sign_request("POST", INBOX, headers, ACTIVITY, KEY_ID, pem_of(key))
    message = Message("POST", INBOX, headers | added)
    resolver = MappingKeyResolver(
        public_keys={KEY_ID: public_pem_of(key).encode()}, private_keys={}
    )
    verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=resolver)
    [result] = verifier.verify(
        message, body=ACTIVITY, require_components=("@method", "@target-uri", "content-digest")
    )
    assert result.label == "sig1"
    assert result.parameters["keyid"] == KEY_ID
    assert result.parameters["alg"] == algorithm.algorithm_id

    tampered = ACTIVITY.replace(b"Create", b"Delete")
    with pytest.raises(InvalidSignature):
        verifier.verify(message, body=tampered)


def test_query_parameters_are_encoded_as_rfc9421_section_2_2_8_says() -> None:
    url = (
        "https://stgy.example/path?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace"
        "&fa%C3%A7ade%22%3A%20=something&tilde=~"
    )
    names = ["var", "bar", "fa%C3%A7ade%22%3A%20", "tilde"]
    components = ["@method"] + [f'"@query-param";name="{name}"' for name in names]
    added = rfc9421.sign_request(
        "GET", url, {}, None, KEY_ID, pem_of(RSA_KEY), components=components
    )
    resolver = MappingKeyResolver(
        public_keys={KEY_ID: public_pem_of(RSA_KEY).encode()}, private_keys={}
    )
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=resolver
    )
    [result] = verifier.verify(Message("GET", url, added))
    values = [result.covered_components[component] for component in components[1:]]
    assert values == ["this%20is%20a%20big%0Avalue", "with%20plus%20whitespace", "something", "%7E"]


@pytest.mark.parametrize(
    "components",
    [
        ("@method", "@target-uri", "content-digest"),
        ("@method", "@authority", "@scheme", "@request-target", "@path", "@query", "date"),
        ("@method", "@target-uri", '"@query-param";name="y"', '"@query-param";name="x"'),
    ],
    ids=["fediverse", "derived", "query-param"],
)
async def test_http_message_signatures_signature_verifies_with_ours(
    components: tuple[str, ...],
) -> None:
    now = datetime.now(UTC)
    headers = {"Host": "mastodon.example", "Date": http_date(now)}
    message = Message("POST", INBOX, dict(headers))
    resolver = MappingKeyResolver(public_keys={}, private_keys={KEY_ID: RSA_KEY})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=resolver
    )
    signer.sign(
        message,
        key_id=KEY_ID,
        created=now,
        label="sig1",
        covered_component_ids=components,
        body=ACTIVITY if "content-digest" in components else None,
    )

    async def resolve(key_id: str, refresh: bool) -> str | None:
        return public_pem_of(RSA_KEY) if key_id == KEY_ID else None

    target = INBOX.removeprefix("https://mastodon.example")
    verified = await verify_request(
        "POST", target, message.headers, ACTIVITY, resolve, now=now, required_headers=()
    )
    assert (verified.key_id, verified.algorithm) == (KEY_ID, "rsa-v1_5-sha256")
    assert verified.covered == tuple(c if c.startswith('"') else f'"{c}"' for c in components)


async def test_our_own_round_trip_names_alg_and_covers_what_mastodon_requires() -> None:
    now = datetime.now(UTC)
    added = rfc9421.sign_request("POST", INBOX, {}, ACTIVITY, KEY_ID, pem_of(RSA_KEY), now=now)
    assert added["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest")'
        f';created={int(now.timestamp())};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert added["Content-Digest"].startswith("sha-256=:")

    async def resolve(key_id: str, refresh: bool) -> str | None:
        return public_pem_of(RSA_KEY)

    verified = await verify_request(
        "POST",
        "/users/bob/inbox?x=1&y=two%20words",
        added | {"Host": "mastodon.example"},
        ACTIVITY,
        resolve,
        now=now + timedelta(minutes=5),
    )
    assert verified.covered == ('"@method"', '"@target-uri"', '"content-digest"')
