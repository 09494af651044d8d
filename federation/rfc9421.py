"""RFC 9421 HTTP Message Signatures: the request-signing subset fediverse servers use.

We sign `("@method" "@target-uri" "content-digest");created=…;keyid="…";alg="…"`
under the label sig1, with an RFC 9530 Content-Digest, as Mastodon 4.5 accepts.
We verify the request components listed in `_DERIVED` and regular header fields.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import http_sf

from federation.digests import make_content_digest
from federation.httpsig import (
    ECDSA,
    MAX_AGE,
    MAX_FUTURE,
    KeyResolver,
    PublicKey,
    SignatureError,
    VerifiedSignature,
    algorithm_for,
    check_body_digests,
    check_expires,
    check_time,
    load_private_key,
    lowercase_headers,
    normalized_authority,
    parse_http_date,
    parse_timestamp,
    required_for,
    sign_with,
    verified_by,
    verify_with_key_refresh,
)

DEFAULT_LABEL = "sig1"
_ALGORITHMS = {"rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519", *ECDSA}
_DERIVED = {
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@request-target",
    "@path",
    "@query",
    "@query-param",
}

Params = dict[str, http_sf.types.BareItemType]
Component = tuple[str, Params]


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    scheme: str
    authority: str | None
    path: str
    query: str | None
    headers: Mapping[str, str]


# ---- signing ----------------------------------------------------------------


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    now: datetime | None = None,
    label: str = DEFAULT_LABEL,
    components: Sequence[str] | None = None,
    include_alg: bool = True,
) -> dict[str, str]:
    """The headers that sign a request per RFC 9421: Signature-Input, Signature, Content-Digest.

    Covers "@method" "@target-uri", plus "content-digest" when there is a body
    (its Content-Digest, sha-256, is among the returned headers). `components`
    overrides that list; an entry may carry parameters in structured form
    ('"@query-param";name="q"'). RSA keys sign rsa-v1_5-sha256, Ed25519 keys
    ed25519, P-256 keys ecdsa-p256-sha256; `alg` is named unless include_alg is False.
    """
    key = load_private_key(private_key_pem)
    algorithm = algorithm_for(key)
    added = {"Content-Digest": make_content_digest(body)} if body is not None else {}
    parts = urlsplit(url)
    request = _Request(
        method=method.upper(),
        scheme=parts.scheme.lower(),
        authority=normalized_authority(parts.scheme, parts.netloc),
        path=parts.path or "/",
        query=parts.query or None,
        headers=lowercase_headers(headers) | lowercase_headers(added),
    )
    if components is None:
        components = ["@method", "@target-uri"] + (["content-digest"] if body is not None else [])
    covered = [_component_from_text(text) for text in components]
    params: Params = {"created": int((now or datetime.now(UTC)).timestamp()), "keyid": key_id}
    if include_alg:
        params["alg"] = algorithm
    signature_params = _serialize_signature_params(label, covered, params)
    signature = sign_with(key, algorithm, _signature_base(request, covered, signature_params))
    added["Signature-Input"] = f"{label}={signature_params}"
    added["Signature"] = f"{label}=:{base64.b64encode(signature).decode('ascii')}:"
    return added


def _component_from_text(text: str) -> Component:
    if not text.startswith('"'):
        return text, {}
    item = http_sf.parse(text.encode("ascii"), tltype="item")
    if not isinstance(item, tuple) or not isinstance(item[0], str):
        raise ValueError(f"not a component identifier: {text}")
    return item[0], dict(item[1])


# ---- the signature base (RFC 9421 §2.5) -------------------------------------


def _serialize_signature_params(label: str, covered: Sequence[Component], params: Params) -> str:
    items: list[http_sf.ItemType] = [(name, dict(p)) for name, p in covered]
    members: http_sf.DictionaryType = {label: (items, dict(params))}
    return http_sf.ser(members)[len(label) + 1 :]


def _signature_base(
    request: _Request, covered: Sequence[Component], signature_params: str
) -> bytes:
    lines: list[str] = []
    seen: set[str] = set()
    for name, params in covered:
        identifier = http_sf.ser((name, dict(params)))
        if identifier in seen:
            raise SignatureError("malformed Signature-Input", f"{identifier} covered twice")
        seen.add(identifier)
        lines.append(f"{identifier}: {_component_value(request, name, params)}")
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines).encode("utf-8")


def _component_value(request: _Request, name: str, params: Params) -> str:
    if not name.startswith("@"):
        if params:
            raise SignatureError("unsupported component parameter", f"{name};{', '.join(params)}")
        value = request.headers.get(name.lower())
        if value is None:
            raise SignatureError(f"header {name.lower()} missing")
        return value
    if name not in _DERIVED:
        raise SignatureError("unsupported derived component", name)
    if set(params) - ({"name"} if name == "@query-param" else set()):
        raise SignatureError("unsupported component parameter", f"{name};{', '.join(params)}")
    query = f"?{request.query}" if request.query is not None else ""
    if name == "@method":
        return request.method
    if name == "@scheme":
        return request.scheme
    if name == "@path":
        return request.path
    if name == "@query":
        return query or "?"
    if name == "@request-target":
        return request.path + query
    if request.authority is None and name in ("@authority", "@target-uri"):
        raise SignatureError("header host missing")
    if name == "@authority":
        return str(request.authority)
    if name == "@target-uri":
        return f"{request.scheme}://{request.authority}{request.path}{query}"
    return _query_param(request.query or "", params.get("name"))


def _query_param(query: str, wanted: object) -> str:
    if not isinstance(wanted, str):
        raise SignatureError("malformed Signature-Input", "@query-param needs a name")
    values = [
        _form_encode(value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if _form_encode(name) == wanted
    ]
    if len(values) != 1:
        raise SignatureError("query parameter missing or repeated", wanted)
    return values[0]


def _form_encode(text: str) -> str:
    # The application/x-www-form-urlencoded percent-encode set, space as %20 (RFC 9421 §2.2.8).
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._"
    return "".join(chr(byte) if byte in safe else f"%{byte:02X}" for byte in text.encode("utf-8"))


# ---- verification -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    label: str
    covered: list[Component]
    params: Params
    signature: bytes


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
    """Verify an RFC 9421 signature; the same contract as `federation.signatures.verify_request`.

    Each label present in both Signature-Input and Signature is tried in order;
    the first that verifies wins, else the first one's error is raised. The
    authority comes from the Host header, the scheme from `scheme`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lowered = lowercase_headers(headers)
    required = required_for(body, required_headers)
    path, _, query = path_with_query.partition("?")
    request = _Request(
        method=method,
        scheme=scheme.lower(),
        authority=normalized_authority(scheme, lowered["host"]) if "host" in lowered else None,
        path=path or "/",
        query=query if "?" in path_with_query else None,
        headers=lowered,
    )
    first, *others = _candidates(lowered)
    try:
        return await _verify_one(
            first, request, body, key_resolver, required, now, max_age, max_future
        )
    except SignatureError:
        for candidate in others:
            try:
                return await _verify_one(
                    candidate, request, body, key_resolver, required, now, max_age, max_future
                )
            except SignatureError:
                continue
        raise


def _candidates(headers: Mapping[str, str]) -> list[_Candidate]:
    if "signature" not in headers:
        raise SignatureError("no signature", "Signature-Input without Signature")
    inputs = _parse_dictionary(headers["signature-input"], "Signature-Input")
    signatures = _parse_dictionary(headers["signature"], "Signature")
    found = []
    for label, member in inputs.items():
        if label not in signatures:
            continue
        if not isinstance(member, tuple) or not isinstance(member[0], list):
            raise SignatureError("malformed Signature-Input", f"{label} is not an inner list")
        covered: list[Component] = []
        for item in member[0]:
            if not isinstance(item, tuple) or not isinstance(item[0], str):
                raise SignatureError("malformed Signature-Input", f"{label}: not a component name")
            covered.append((item[0], dict(item[1])))
        value = signatures[label]
        raw = value[0] if isinstance(value, tuple) else value
        if not isinstance(raw, bytes):
            raise SignatureError("malformed Signature", f"{label} is not a byte sequence")
        found.append(_Candidate(label, covered, dict(member[1]), raw))
    if not found:
        raise SignatureError("no signature", "no label in both Signature-Input and Signature")
    return found


def _parse_dictionary(value: str, field: str) -> dict[str, object]:
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError) as error:
        raise SignatureError(f"malformed {field}", str(error)) from error
    if not isinstance(parsed, dict):
        raise SignatureError(f"malformed {field}")
    return dict(parsed)


async def _verify_one(
    candidate: _Candidate,
    request: _Request,
    body: bytes | None,
    key_resolver: KeyResolver,
    required: tuple[str, ...],
    now: datetime,
    max_age: timedelta,
    max_future: timedelta,
) -> VerifiedSignature:
    params = candidate.params
    key_id, created, expires = params.get("keyid"), params.get("created"), params.get("expires")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("malformed Signature-Input", "keyid missing")
    if created is None:
        raise SignatureError("created missing")
    if type(created) is not int:
        raise SignatureError("malformed Signature-Input", "created is not an integer")
    if expires is not None and type(expires) is not int:
        raise SignatureError("malformed Signature-Input", "expires is not an integer")
    alg = params.get("alg")
    if alg is not None and (not isinstance(alg, str) or alg not in _ALGORITHMS):
        raise SignatureError("unsupported algorithm", str(alg))
    names = {name for name, _ in candidate.covered}
    for name in required:
        if not _is_covered(name, names, params):
            raise SignatureError(f"header {name} not signed")
    signature_params = _serialize_signature_params(candidate.label, candidate.covered, params)
    data = _signature_base(request, candidate.covered, signature_params)
    check_time(
        parse_timestamp(created, "created"),
        "created",
        now=now,
        max_age=max_age,
        max_future=max_future,
    )
    if expires is not None:
        check_expires(parse_timestamp(expires, "expires"), now=now, max_future=max_future)
    if "date" in names:
        date = parse_http_date(request.headers["date"])
        check_time(date, "date", now=now, max_age=max_age, max_future=max_future)
    check_body_digests(request.headers, body)

    used: list[str] = []

    def verifies(key: PublicKey) -> bool:
        used.extend(verified_by(key, alg, candidate.signature, data))
        return bool(used)

    await verify_with_key_refresh(key_id, key_resolver, verifies)
    covered = tuple(http_sf.ser((name, dict(p))) for name, p in candidate.covered)
    return VerifiedSignature(key_id, "rfc9421", used[0], covered)


def _is_covered(name: str, names: set[str], params: Params) -> bool:
    if name == "(request-target)":
        target = bool(names & {"@target-uri", "@request-target"}) or {"@path", "@query"} <= names
        return "@method" in names and target
    if name == "host":
        return bool(names & {"@authority", "@target-uri", "host"})
    if name in ("date", "(created)"):
        return True  # created is always signed: _verify_one requires it
    if name == "(expires)":
        return "expires" in params
    if name == "digest":
        return bool(names & {"content-digest", "digest"})
    return name in names
