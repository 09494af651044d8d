"""OAuth 2 as Mastodon does it: apps, authorisation codes (PKCE S256), tokens, revocation.

No authorisation server library fits asyncio, so this is written here, small: secrets
from `secrets`, stored as SHA-256 digests, compared with `hmac.compare_digest`. Tokens
never expire; they are revoked (by the app, by the person in their settings, or with
every session of the account).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from stgy.domain.errors import DomainError, Invalid
from stgy.domain.oauth_scopes import UnknownScope, parse_scopes, within
from stgy.domain.text import check_storable
from stgy.services import Services
from storage import oauth as oauth_sql
from storage import sessions as sessions_sql
from storage.oauth import AuthorisedApp, OAuthApp, TokenHolder

OOB = "urn:ietf:wg:oauth:2.0:oob"
# How long an authorisation code may be redeemed; kept a day after, to spot a replay.
CODE_LIFETIME = timedelta(minutes=10)
CODE_KEPT = timedelta(days=1)
# The session behind a person's token: it does not expire (the token is revoked).
TOKEN_SESSION_ENDS = datetime(9999, 12, 31, tzinfo=UTC)
MAX_APP_NAME = 60
MAX_URL = 2000
MAX_REDIRECT_URIS = 16
MAX_STATE = 2000
# Never followed as a redirect: they run or show content in the page of whoever follows.
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the"
    " redirection URI used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication"
    " included, or unsupported authentication method."
)
INVALID_SCOPE = "The requested scope is invalid, unknown, or malformed."


class OAuthError(DomainError):
    """An OAuth error (RFC 6749 5.2): its code and a sentence for people."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status
        self.description = description


@dataclass(frozen=True)
class RegisteredApp:
    app: OAuthApp
    client_secret: str  # shown once, at registration; only its digest is kept


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked request of /oauth/authorize: what the consent form shows and sends on."""

    app: OAuthApp
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scopes: list[str]
    created_at: datetime


def _plausible_client_id(client_id: str) -> bool:
    """Could be one we issued (URL-safe base64): else it is not looked up at all."""
    return 0 < len(client_id) <= 200 and client_id.isascii() and client_id.isprintable()


def digest(secret: str) -> str:
    """How a code, token or client secret is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier (RFC 7636 4.2)."""
    hashed = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()


def check_redirect_uri(uri: str) -> str | None:
    """Why `uri` cannot be a redirect URI, or None: an absolute URI without a fragment
    (https, http, or an app's own scheme), or the out-of-band URN."""
    if uri == OOB:
        return None
    if len(uri) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        return "must not contain spaces or control characters"
    parts = urlsplit(uri)
    if not parts.scheme or not _SCHEME_RE.match(parts.scheme) or ":" not in uri:
        return "must be an absolute URI"
    if parts.scheme.lower() in _FORBIDDEN_SCHEMES:
        return f"must not use the {parts.scheme}: scheme"
    if parts.fragment or "#" in uri:
        return "must not contain a fragment"
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        return "must name a host"
    return None


def _check_app(name: str, website: str | None, redirect_uris: list[str]) -> None:
    if not name.strip():
        raise Invalid("client_name", "can't be blank")
    if len(name) > MAX_APP_NAME:
        raise Invalid("client_name", f"must be at most {MAX_APP_NAME} characters")
    check_storable("client_name", name)
    if website is not None:
        check_storable("website", website)
        parts = urlsplit(website)
        if len(website) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
            raise Invalid("website", "must be an http or https URL")
    if not redirect_uris:
        raise Invalid("redirect_uris", "can't be blank")
    if len(redirect_uris) > MAX_REDIRECT_URIS:
        raise Invalid("redirect_uris", f"at most {MAX_REDIRECT_URIS} redirect URIs")
    for uri in redirect_uris:
        check_storable("redirect_uris", uri)
        reason = check_redirect_uri(uri)
        if reason is not None:
            raise Invalid("redirect_uris", f"{uri[:100]!r} {reason}")


async def register_app(
    services: Services,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: str | None,
    website: str | None,
) -> RegisteredApp:
    """Register a client app (POST /api/v1/apps); Invalid on a bad field."""
    name = name.strip()
    website = (website or "").strip() or None
    uris = list(dict.fromkeys(uri.strip() for uri in redirect_uris if uri.strip()))
    _check_app(name, website, uris)
    try:
        granted = parse_scopes(scopes)
    except UnknownScope as exc:
        raise Invalid("scopes", f"{exc.scope!r} is not a scope this server grants") from None
    secret = secrets.token_urlsafe(32)
    async with services.pool.acquire() as conn:
        app = await oauth_sql.create_app(
            conn,
            name=name,
            website=website,
            redirect_uris=uris,
            scopes=granted,
            client_id=secrets.token_urlsafe(32),
            client_secret_hash=digest(secret),
        )
    return RegisteredApp(app, secret)


async def find_app(services: Services, app_id: int) -> OAuthApp | None:
    async with services.pool.acquire() as conn:
        return await oauth_sql.app_by_id(conn, app_id=app_id)


async def authenticate_client(services: Services, client_id: str, client_secret: str) -> OAuthApp:
    """The app whose credentials these are; OAuthError invalid_client (401) otherwise."""
    app = None
    if _plausible_client_id(client_id):
        async with services.pool.acquire() as conn:
            app = await oauth_sql.app_by_client_id(conn, client_id=client_id)
    expected = app.client_secret_hash if app is not None else digest(secrets.token_urlsafe(32))
    if not hmac.compare_digest(expected, digest(client_secret)) or app is None:
        raise OAuthError("invalid_client", INVALID_CLIENT, 401)
    return app


async def check_authorization_request(
    services: Services,
    *,
    client_id: str,
    redirect_uri: str,
    response_type: str,
    scope: str | None,
    state: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Check the parameters of /oauth/authorize; OAuthError (shown on the page, never
    sent to a redirect URI that is not the app's) when they are wrong."""
    app = None
    if _plausible_client_id(client_id):
        async with services.pool.acquire() as conn:
            app = await oauth_sql.app_by_client_id(conn, client_id=client_id)
    if app is None:
        raise OAuthError("invalid_client", INVALID_CLIENT, 401)
    if not redirect_uri and len(app.redirect_uris) == 1:
        redirect_uri = app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:  # exact match, as RFC 6749 3.1.2 asks
        raise OAuthError(
            "invalid_redirect_uri",
            "The redirect uri included is not valid: it must be one the app registered.",
        )
    if response_type != "code":
        raise OAuthError(
            "unsupported_response_type",
            "The authorization server does not support this response type (only code).",
        )
    try:
        scopes = parse_scopes(scope)
    except UnknownScope:
        raise OAuthError("invalid_scope", INVALID_SCOPE) from None
    if not within(scopes, app.scopes):
        raise OAuthError("invalid_scope", INVALID_SCOPE + " It is not one the app registered.")
    if state is not None and len(state) > MAX_STATE:
        raise OAuthError("invalid_request", f"state must be at most {MAX_STATE} characters.")
    if code_challenge:
        if (code_challenge_method or "plain") != "S256":
            raise OAuthError("invalid_request", "Only the S256 code_challenge_method is supported.")
        if not _CHALLENGE_RE.match(code_challenge):
            raise OAuthError("invalid_request", "code_challenge is malformed.")
    elif code_challenge_method:
        raise OAuthError("invalid_request", "code_challenge_method without a code_challenge.")
    return AuthorizationRequest(app, redirect_uri, scopes, state or None, code_challenge or None)


async def issue_code(services: Services, request: AuthorizationRequest, account_id: int) -> str:
    """A new authorisation code for the person's consent to `request`."""
    code = secrets.token_urlsafe(32)
    async with services.pool.acquire() as conn:
        await oauth_sql.delete_stale_codes(conn, older_than=CODE_KEPT)
        await oauth_sql.create_code(
            conn,
            code_hash=digest(code),
            app_id=request.app.id,
            account_id=account_id,
            redirect_uri=request.redirect_uri,
            scopes=request.scopes,
            code_challenge=request.code_challenge,
        )
    return code


async def exchange_code(
    services: Services,
    app: OAuthApp,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    ip: str,
) -> IssuedToken:
    """The authorization_code grant: a token for the code, once; OAuthError invalid_grant
    when the code is unknown, used, expired, another app's, for another redirect URI,
    or its PKCE verifier does not match. A code presented twice revokes its tokens."""
    if not code:
        raise OAuthError("invalid_request", "The request is missing the code parameter.")
    code_hash = digest(code)
    token = secrets.token_urlsafe(32)
    issued: IssuedToken | None = None
    async with services.pool.acquire() as conn, conn.transaction():
        found = await oauth_sql.lock_code(conn, code_hash=code_hash, lifetime=CODE_LIFETIME)
        if found is None or found.app_id != app.id:
            pass
        elif found.used_at is not None:
            await oauth_sql.revoke_tokens_of_code(conn, code_hash=code_hash)
        elif found.expired or not _verifier_matches(found.code_challenge, code_verifier):
            await oauth_sql.mark_code_used(conn, code_hash=code_hash)
        elif found.redirect_uri != redirect_uri:
            await oauth_sql.mark_code_used(conn, code_hash=code_hash)
        else:
            await oauth_sql.mark_code_used(conn, code_hash=code_hash)
            session_id = await sessions_sql.create_session(
                conn,
                account_id=found.account_id,
                expires_at=TOKEN_SESSION_ENDS,
                user_agent=f"{app.name} (app)",
                ip=ip,
            )
            live = await sessions_sql.active_viewer(
                conn, session_id=session_id, account_id=found.account_id
            )
            if live is None:  # the account was suspended or deleted since it consented
                raise OAuthError("invalid_grant", INVALID_GRANT)
            created = await oauth_sql.create_token(
                conn,
                token_hash=digest(token),
                app_id=app.id,
                account_id=found.account_id,
                session_id=session_id,
                scopes=found.scopes,
                code_hash=code_hash,
            )
            issued = IssuedToken(token, found.scopes, created)
    if issued is None:  # after the commit: a replay's revocation stays done
        raise OAuthError("invalid_grant", INVALID_GRANT)
    return issued


def _verifier_matches(challenge: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return not verifier  # a verifier for a code that had no challenge: refused
    if not verifier or not 43 <= len(verifier) <= 128:
        return False
    return hmac.compare_digest(pkce_challenge(verifier), challenge)


async def client_credentials(services: Services, app: OAuthApp, scope: str | None) -> IssuedToken:
    """The client_credentials grant: a token of the app itself, no person behind it."""
    try:
        scopes = parse_scopes(scope)
    except UnknownScope:
        raise OAuthError("invalid_scope", INVALID_SCOPE) from None
    if not within(scopes, app.scopes):
        raise OAuthError("invalid_scope", INVALID_SCOPE)
    token = secrets.token_urlsafe(32)
    async with services.pool.acquire() as conn:
        created = await oauth_sql.create_token(
            conn,
            token_hash=digest(token),
            app_id=app.id,
            account_id=None,
            session_id=None,
            scopes=scopes,
            code_hash=None,
        )
    return IssuedToken(token, scopes, created)


async def revoke(services: Services, app: OAuthApp, token: str) -> None:
    """Revoke one of the app's tokens (RFC 7009: an unknown token is no error); another
    app's token is refused (OAuthError unauthorized_client, 403)."""
    if not token:
        raise OAuthError("invalid_request", "The request is missing the token parameter.")
    async with services.pool.acquire() as conn:
        found = await oauth_sql.find_token(conn, token_hash=digest(token))
        if found is None:
            return
        if found.app_id != app.id:
            raise OAuthError(
                "unauthorized_client", "You are not authorized to revoke this token", 403
            )
        await oauth_sql.revoke_token(conn, token_id=found.id)


async def token_holder(services: Services, token: str) -> TokenHolder | None:
    """Who presents this access token, or None when it is unknown, revoked or its
    person's session has ended."""
    if not token or len(token) > 200:
        return None
    async with services.pool.acquire() as conn:
        return await oauth_sql.token_holder(conn, token_hash=digest(token))


async def authorised_apps(services: Services, account_id: int) -> list[AuthorisedApp]:
    async with services.pool.acquire() as conn:
        return await oauth_sql.authorised_apps(conn, account_id=account_id)


async def revoke_authorised_app(services: Services, account_id: int, app_id: int) -> int:
    """Take back every token the person gave the app; how many there were."""
    async with services.pool.acquire() as conn, conn.transaction():
        return await oauth_sql.revoke_app_for_account(conn, account_id=account_id, app_id=app_id)
