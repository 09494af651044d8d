"""The parts both HTTP signature schemes share: errors, keys, algorithms, time and digest checks."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from federation.digests import verify_content_digest, verify_digest

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

KeyResolver = Callable[[str, bool], Awaitable[str | None]]
"""`await resolver(key_id, refresh)` gives the PEM public key for a keyId, or None.

It is called with refresh=False first (a cached key is fine; fetch when there
is none). When the signature does not verify with that key, it is called once
more with refresh=True: bypass any cache and refetch, because the actor may
have rotated its key. Return None when the key cannot be found at all.
"""

MAX_AGE = timedelta(hours=12)
MAX_FUTURE = timedelta(hours=1)
REQUIRED_HEADERS = ("(request-target)", "host", "date")

ECDSA = {
    "ecdsa-p256-sha256": (ec.SECP256R1, hashes.SHA256),
    "ecdsa-p384-sha384": (ec.SECP384R1, hashes.SHA384),
}
"""The ECDSA algorithms, by their RFC 9421 names: the curve and the hash each uses."""


class SignatureError(Exception):
    """A request signature that is missing, malformed, stale or false.

    `reason` names what failed in a few stable words ("date too old",
    "digest mismatch", "signature does not verify", "header host not signed",
    "unknown key", ...); `detail` adds specifics for logs.
    """

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What a verified signature proves: the key that signed, by which scheme, over what."""

    key_id: str
    scheme: Literal["cavage", "rfc9421"]
    algorithm: str
    covered: tuple[str, ...]


# ---- keys -------------------------------------------------------------------


# Parsed public keys, by PEM: at most PUBLIC_KEY_CACHE_SIZE of them, each of a PEM of at
# most MAX_CACHED_PEM characters (a 16,384-bit RSA key's is under 3,000), so at most
# about 10 MB; a longer PEM (whatever a remote server stored) is parsed every time.
PUBLIC_KEY_CACHE_SIZE = 1024
MAX_CACHED_PEM = 8192


def load_public_key(pem: str) -> PublicKey:
    """Parse a PEM public key once per distinct PEM (SPKI or PKCS#1 RSA); ValueError if unusable."""
    if len(pem) > MAX_CACHED_PEM:
        return _parse_public_key(pem)
    return _cached_public_key(pem)


def _parse_public_key(pem: str) -> PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


_cached_public_key = functools.lru_cache(maxsize=PUBLIC_KEY_CACHE_SIZE)(_parse_public_key)


@functools.lru_cache(maxsize=256)
def load_private_key(pem: str) -> PrivateKey:
    """Parse an unencrypted PEM private key once per distinct PEM; ValueError if unusable."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(
        key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    ):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


async def verify_with_key_refresh(
    key_id: str, key_resolver: KeyResolver, verifies: Callable[[PublicKey], bool]
) -> None:
    """Check a signature with the resolved key, refetching the key once if it does not verify."""
    pem = await key_resolver(key_id, False)
    if pem is None:
        raise SignatureError("unknown key", key_id)
    if _verifies_with(pem, verifies):
        return
    fresh = await key_resolver(key_id, True)
    if fresh is not None and fresh != pem and _verifies_with(fresh, verifies):
        return
    raise SignatureError("signature does not verify", key_id)


def _verifies_with(pem: str, verifies: Callable[[PublicKey], bool]) -> bool:
    try:
        key = load_public_key(pem)
    except (ValueError, UnicodeEncodeError):
        return False
    try:
        return verifies(key)
    except (InvalidSignature, ValueError):
        return False


# ---- algorithms, by their RFC 9421 names ------------------------------------


def algorithm_for(key: PrivateKey) -> str:
    """The algorithm a private key signs with: rsa-v1_5-sha256, ed25519 or an ECDSA one."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa-v1_5-sha256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    for name, (curve, _) in ECDSA.items():
        if isinstance(key.curve, curve):
            return name
    raise ValueError(f"no RFC 9421 algorithm for curve {key.curve.name}")


def sign_with(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    """Sign `data` with the key's algorithm (see algorithm_for); ECDSA as raw r || s."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    _, hash_type = ECDSA[algorithm]
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_type())))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verified_by(key: PublicKey, alg: str | None, signature: bytes, data: bytes) -> list[str]:
    """The algorithm the signature verifies with: the named one, or any the key allows."""
    if isinstance(key, rsa.RSAPublicKey):
        schemes = {
            "rsa-v1_5-sha256": (padding.PKCS1v15(), hashes.SHA256()),
            "rsa-pss-sha512": (
                padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                hashes.SHA512(),
            ),
        }
        for name, (scheme, digest) in schemes.items():
            if alg in (None, name):
                try:
                    key.verify(signature, data, scheme, digest)
                    return [name]
                except InvalidSignature:
                    continue
        return []
    if isinstance(key, ed25519.Ed25519PublicKey):
        if alg not in (None, "ed25519"):
            return []
        key.verify(signature, data)
        return ["ed25519"]
    for name, (curve, hash_type) in ECDSA.items():
        if isinstance(key.curve, curve) and alg in (None, name):
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                return []
            r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hash_type()))
            return [name]
    return []


# ---- checks shared by both schemes ------------------------------------------


def lowercase_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lowercased, values trimmed, repeated fields joined with ", "."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        value = " ".join(part.strip() for part in value.strip().splitlines())
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def normalized_authority(scheme: str, netloc: str) -> str:
    """host[:port] lowercased, without userinfo or the scheme's default port."""
    host = netloc.rpartition("@")[2].lower()
    default = {"https": ":443", "http": ":80"}.get(scheme.lower())
    return host[: -len(default)] if default and host.endswith(default) else host


def check_time(
    moment: datetime, what: str, *, now: datetime, max_age: timedelta, max_future: timedelta
) -> None:
    if moment < now - max_age:
        raise SignatureError(f"{what} too old", moment.isoformat())
    if moment > now + max_future:
        raise SignatureError(f"{what} in the future", moment.isoformat())


def check_expires(expires: datetime, *, now: datetime, max_future: timedelta) -> None:
    # The allowance for clock skew applies at both ends of the window.
    if now > expires + max_future:
        raise SignatureError("signature expired", expires.isoformat())


def check_body_digests(headers: Mapping[str, str], body: bytes | None) -> None:
    """Any Digest or Content-Digest the request carries must match its body."""
    if body is None:
        return
    if "digest" in headers and not verify_digest(headers["digest"], body):
        raise SignatureError("digest mismatch", "Digest")
    if "content-digest" in headers and not verify_content_digest(headers["content-digest"], body):
        raise SignatureError("digest mismatch", "Content-Digest")


def required_for(body: bytes | None, required_headers: Sequence[str] | None) -> tuple[str, ...]:
    if required_headers is not None:
        return tuple(name.lower() for name in required_headers)
    return REQUIRED_HEADERS + (("digest",) if body else ())


def parse_timestamp(value: str | int, what: str) -> datetime:
    """A signed Unix time (created, expires) as a UTC datetime."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise SignatureError(f"malformed {what}", str(value)) from error


def parse_http_date(value: str) -> datetime:
    """A Date header value as a UTC datetime."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as error:
        raise SignatureError("malformed date header", value) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
