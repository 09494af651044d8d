"""HTTP Signatures: draft-cavage-12 signing and verification, and the checks both schemes share.

`verify_request` is the one entry point for incoming requests: it reads RFC 9421
signatures (`Signature-Input` present, see `federation.rfc9421`) and
draft-cavage ones (a lone `Signature` header).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from federation.digests import make_digest, verify_content_digest, verify_digest

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

_SUPPORTED_ALGORITHMS = ("rsa-sha256", "hs2019")


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


@dataclass(frozen=True, slots=True)
class CavageSignature:
    """A parsed draft-cavage `Signature` header.

    `algorithm` is lowercased and None when absent; `headers` is the lowercased
    covered list, defaulted as Mastodon does ("(created)" for hs2019, else "date").
    `created` and `expires` keep their text, which the signing string repeats.
    """

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: str | None = None
    expires: str | None = None


# ---- keys -------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def load_public_key(pem: str) -> PublicKey:
    """Parse a PEM public key once per distinct PEM (SPKI or PKCS#1 RSA); ValueError if unusable."""
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


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


# ---- draft-cavage: signing --------------------------------------------------


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    now: datetime | None = None,
    signed_headers: Sequence[str] | None = None,
) -> dict[str, str]:
    """The headers to add to a request to sign it the draft-cavage way, as Mastodon expects.

    Returns Host, Date (unless `headers` has one), Digest (when there is a
    body) and Signature. The signature covers "(request-target) host date",
    plus "digest content-type" with a body or "accept" without one, each when
    present; `signed_headers` overrides that list. RSA keys sign rsa-sha256,
    Ed25519 keys hs2019.
    """
    if '"' in key_id:
        raise ValueError("a draft-cavage keyId cannot hold a double quote")
    key = load_private_key(private_key_pem)
    given = lowercase_headers(headers)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    added = {"Host": given.get("host") or normalized_authority(parts.scheme, parts.netloc)}
    if "date" not in given:
        added["Date"] = http_date(now or datetime.now(UTC))
    if body is not None:
        added["Digest"] = make_digest(body)
    values = given | lowercase_headers(added)
    if signed_headers is None:
        wanted = ["(request-target)", "host", "date"]
        wanted += ["digest", "content-type"] if body is not None else ["accept"]
        covered = [name for name in wanted if name.startswith("(") or name in values]
    else:
        covered = [name.lower() for name in signed_headers]
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in values:
            lines.append(f"{name}: {values[name]}")
        else:
            raise ValueError(f"cannot sign {name}: the request has no such header")
    data = "\n".join(lines).encode("utf-8")
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm, raw = "rsa-sha256", key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm, raw = "hs2019", key.sign(data)
    else:
        raise ValueError("draft-cavage signing needs an RSA or Ed25519 key")
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return added


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (RFC 7231), e.g. "Sun, 05 Jan 2014 21:31:40 GMT"."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def normalized_authority(scheme: str, netloc: str) -> str:
    """host[:port] lowercased, without userinfo or the scheme's default port."""
    host = netloc.rpartition("@")[2].lower()
    default = {"https": ":443", "http": ":80"}.get(scheme.lower())
    return host[: -len(default)] if default and host.endswith(default) else host


# ---- draft-cavage: parsing --------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"[^\s,\"]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_INTEGER = re.compile(r"\d{1,15}")
_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,9})?")


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a draft-cavage `Signature` header value; SignatureError if it is malformed."""
    params = _parse_params(value)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureError("malformed signature header", "keyId missing")
    encoded = params.get("signature")
    if not encoded:
        raise SignatureError("malformed signature header", "signature missing")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureError("malformed signature header", "signature is not base64") from error
    algorithm = params["algorithm"].lower() if "algorithm" in params else None
    if "headers" in params:
        headers = tuple(params["headers"].lower().split())
        if not headers:
            raise SignatureError("malformed signature header", "headers is empty")
    else:
        headers = ("(created)",) if algorithm in (None, "hs2019") else ("date",)
    created, expires = params.get("created"), params.get("expires")
    if created is not None and not _INTEGER.fullmatch(created):
        raise SignatureError("malformed signature header", "created is not an integer")
    if expires is not None and not _NUMBER.fullmatch(expires):
        raise SignatureError("malformed signature header", "expires is not a number")
    return CavageSignature(key_id, algorithm, headers, signature, created, expires)


def _parse_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    position, end = 0, len(value)
    while True:
        while position < end and value[position] in " \t":
            position += 1
        if position >= end:
            break
        name = _NAME.match(value, position)
        if name is None or name.end() >= end or value[name.end()] != "=":
            raise SignatureError("malformed signature header", f"expected name= at {position}")
        position = name.end() + 1
        quoted = _QUOTED.match(value, position)
        if quoted is not None:
            text = re.sub(r"\\(.)", r"\1", quoted.group(1))
        elif (token := _TOKEN.match(value, position)) is not None:
            quoted, text = token, token.group(0)
        else:
            raise SignatureError("malformed signature header", f"no value at {position}")
        key = name.group(0).lower()
        if key in params:
            raise SignatureError("malformed signature header", f"{name.group(0)} repeated")
        params[key] = text
        position = quoted.end()
        while position < end and value[position] in " \t":
            position += 1
        if position < end:
            if value[position] != ",":
                raise SignatureError("malformed signature header", f"expected , at {position}")
            position += 1
    return params


# ---- verification -----------------------------------------------------------


async def verify_request(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | None,
    key_resolver: KeyResolver,
    *,
    now: datetime,
    max_age: timedelta = MAX_AGE,
    max_future: timedelta = MAX_FUTURE,
    required_headers: Sequence[str] | None = None,
    scheme: str = "https",
) -> VerifiedSignature:
    """Verify an incoming request's HTTP signature, RFC 9421 or draft-cavage.

    `headers` may be any mapping (looked up case-insensitively) or the raw
    (name, value) pairs. `body` is the raw body; pass it for every request that
    has one, since the digest checks need it. `required_headers` defaults to
    "(request-target) host date", plus "digest" for a non-empty body; "date"
    is also met by a signed created time and "digest" by Content-Digest.
    The signed time must lie within [now - max_age, now + max_future].
    `scheme` is what the request arrived over, for RFC 9421's @target-uri.
    The public key comes from `key_resolver` (see KeyResolver), asked again
    with refresh=True, once, when the signature does not verify with it.
    Raises SignatureError naming what failed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lowered = lowercase_headers(headers)
    if "signature-input" in lowered:
        from federation import rfc9421  # the RFC 9421 module builds on this one

        return await rfc9421.verify_request(
            method,
            path_with_query,
            lowered,
            body,
            key_resolver,
            now=now,
            max_age=max_age,
            max_future=max_future,
            required_headers=required_headers,
            scheme=scheme,
        )
    if "signature" not in lowered:
        raise SignatureError("no signature")
    required = required_for(body, required_headers)
    signature = parse_signature_header(lowered["signature"])
    algorithm = signature.algorithm or "hs2019"
    if algorithm not in _SUPPORTED_ALGORITHMS:
        raise SignatureError("unsupported algorithm", algorithm)
    covered = set(signature.headers)
    for name in required:
        if not _is_covered(name, covered):
            raise SignatureError(f"header {name} not signed")
    data = _signing_string(signature, algorithm, method, path_with_query, lowered)
    _check_cavage_times(signature, lowered, now=now, max_age=max_age, max_future=max_future)
    check_body_digests(lowered, body)

    def verifies(key: PublicKey) -> bool:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature.signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(key, ed25519.Ed25519PublicKey) and algorithm == "hs2019":
            key.verify(signature.signature, data)
            return True
        return False

    await verify_with_key_refresh(signature.key_id, key_resolver, verifies)
    return VerifiedSignature(signature.key_id, "cavage", algorithm, signature.headers)


def _is_covered(name: str, covered: set[str]) -> bool:
    if name == "date":
        return "date" in covered or "(created)" in covered
    if name == "digest":
        return "digest" in covered or "content-digest" in covered
    return name in covered


def _signing_string(
    signature: CavageSignature,
    algorithm: str,
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
) -> bytes:
    lines = []
    for name in signature.headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path_with_query}")
        elif name in ("(created)", "(expires)"):
            value = signature.created if name == "(created)" else signature.expires
            if algorithm != "hs2019":
                raise SignatureError(f"{name} not allowed with {algorithm}")
            if value is None:
                raise SignatureError(f"{name} signed without its parameter")
            lines.append(f"{name}: {value}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"header {name} missing")
    return "\n".join(lines).encode("utf-8")


def _check_cavage_times(
    signature: CavageSignature,
    headers: Mapping[str, str],
    *,
    now: datetime,
    max_age: timedelta,
    max_future: timedelta,
) -> None:
    if "date" in signature.headers:
        date = parse_http_date(headers["date"])
        check_time(date, "date", now=now, max_age=max_age, max_future=max_future)
    if "(created)" in signature.headers and signature.created is not None:
        created = parse_timestamp(signature.created, "created")
        check_time(created, "created", now=now, max_age=max_age, max_future=max_future)
    if "(expires)" in signature.headers and signature.expires is not None:
        expires = parse_timestamp(signature.expires, "expires")
        check_expires(expires, now=now, max_future=max_future)
