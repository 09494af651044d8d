"""Passwords, tokens and logins: argon2 hashes, short-lived JWTs bound to session rows."""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from stgy.config import AuthConfig
from stgy.domain.errors import Forbidden, RateLimited, Unauthorized
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import cache
from storage import sessions as sessions_sql
from storage.sessions import Viewer

TOKEN_LIFETIME = timedelta(hours=1)
SESSION_LIFETIME = timedelta(days=30)
_ALGORITHM = "HS256"
_VERIFIER = PasswordHasher()  # verifying reads the cost from the hash


@functools.cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hasher(config: AuthConfig) -> PasswordHasher:
    """The hasher of new passwords (any hasher checks any hash: the cost is in it)."""
    return _hasher(config.password_time_cost, config.password_memory_kib)


@functools.cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """Verified against when the login names nobody, so both answers take as long.
    Made on first use: hashing at import would cost every process 0.1 s and memory."""
    return _hasher(time_cost, memory_kib).hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Token:
    token: str
    expires_at: datetime
    account_id: int


async def hash_password(config: AuthConfig, password: str) -> str:
    return await asyncio.to_thread(hasher(config).hash, password)


async def password_matches(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _VERIFIER.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


async def token_key(services: Services) -> str:
    """The instance's token key, made on first use and kept in PostgreSQL."""
    async with services.pool.acquire() as conn:
        return await sessions_sql.get_or_create_secret(
            conn, name="token_key", new_value=secrets.token_urlsafe(48)
        )


def _issue(key: str, issuer: str, account_id: int, session_id: int) -> Token:
    import jwt  # with the first login or token check: the worker never needs it

    now = datetime.now(UTC)
    expires = now + TOKEN_LIFETIME
    claims = {
        "iss": issuer,
        "sub": str(account_id),
        "sid": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return Token(jwt.encode(claims, key, algorithm=_ALGORITHM), expires, account_id)


def _failure_keys(services: Services, login: str, ip: str) -> list[str]:
    prefix = f"{services.config.namespace}:rate:login"
    return [f"{prefix}:ip:{ip}", f"{prefix}:account:{login.lower()}"]


async def _check_limit(services: Services, keys: list[str]) -> None:
    """Failed logins per IP and per account are limited; successes do not count."""
    limit = services.config.limits.rate_limit_logins_per_minute
    hits, retry_after = await cache.most_hits(services.redis, keys=keys)
    if hits >= limit:
        raise RateLimited({"reason": "too many failed logins", "retry_after": retry_after})


async def _failed(services: Services, keys: list[str], reason: str) -> Unauthorized:
    await cache.count_hits(services.redis, keys=keys, window_seconds=60)
    return Unauthorized(reason)


async def login(
    services: Services, key: str, *, login: str, password: str, ip: str, user_agent: str
) -> Token:
    """Check credentials (same answer for unknown login and wrong password)."""
    keys = _failure_keys(services, login, ip)
    await _check_limit(services, keys)
    async with services.pool.acquire() as conn:
        creds = await accounts_sql.find_credentials(conn, login=login)
    if creds is None:
        cost = services.config.auth
        await password_matches(
            _dummy_hash(cost.password_time_cost, cost.password_memory_kib), password
        )
        raise await _failed(services, keys, "wrong login or password")
    if not await password_matches(creds.password_hash, password) or creds.deleted:
        raise await _failed(services, keys, "wrong login or password")
    if creds.suspended:
        raise Forbidden("this account is suspended")
    if not creds.approved:
        raise Forbidden("this account is waiting for approval by a moderator")
    async with services.pool.acquire() as conn:
        session_id = await sessions_sql.create_session(
            conn,
            account_id=creds.account_id,
            expires_at=datetime.now(UTC) + SESSION_LIFETIME,
            user_agent=user_agent,
            ip=ip,
        )
    return _issue(key, services.config.instance.base_url, creds.account_id, session_id)


# Tokens whose signature and claims were checked, with their account, session and
# expiry: that check depends only on the token, key and issuer, so each process does
# it once per token (it was a tenth of a timeline read's CPU). The session row is still
# read on every request, so a logout ends a session at once in every process.
_VERIFIED: dict[tuple[str, str, str], tuple[int, int, int]] = {}
_VERIFIED_MAX = 10_000


def _claims(key: str, issuer: str, token: str) -> tuple[int, int]:
    known = _VERIFIED.get((key, issuer, token))
    if known is not None and time.time() < known[2]:
        return known[0], known[1]
    import jwt

    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "sid", "iss"]},
        )
        verified = int(claims["sub"]), int(claims["sid"]), int(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Unauthorized("invalid or expired token") from None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()  # a crude bound: tokens live an hour, re-checking is cheap
    _VERIFIED[(key, issuer, token)] = verified
    return verified[0], verified[1]


def token_claims(services: Services, key: str, token: str) -> tuple[int, int]:
    """(account id, session id) of a valid token, without reading its session row: the
    caller must check the session is live (storage.sessions.live_session) in its own
    statement. Unauthorized when the token is invalid or expired."""
    return _claims(key, services.config.instance.base_url, token)


async def authenticate(services: Services, key: str, token: str) -> Viewer:
    account_id, session_id = _claims(key, services.config.instance.base_url, token)
    async with services.pool.acquire() as conn:
        viewer = await sessions_sql.active_viewer(
            conn, session_id=session_id, account_id=account_id
        )
    if viewer is None:
        raise Unauthorized("session ended; log in again")
    return viewer


async def refresh(services: Services, key: str, viewer: Viewer) -> Token:
    """A fresh token for the same session (the old one stays valid until it expires)."""
    return _issue(key, services.config.instance.base_url, viewer.account_id, viewer.session_id)


async def logout(services: Services, viewer: Viewer) -> None:
    async with services.pool.acquire() as conn:
        await sessions_sql.revoke_session(conn, session_id=viewer.session_id)
