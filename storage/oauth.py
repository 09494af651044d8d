"""SQL for OAuth 2 applications, authorisation codes and access tokens (Mastodon client API).

Codes, tokens and client secrets are stored as digests (the caller hashes them): a
copy of the database hands out no credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Conn
from storage.sessions import Viewer


@dataclass(frozen=True)
class OAuthApp:
    id: int
    name: str
    website: str | None
    redirect_uris: list[str]
    scopes: list[str]
    client_id: str
    client_secret_hash: str
    created_at: datetime


@dataclass(frozen=True)
class AuthorizationCode:
    app_id: int
    account_id: int
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    created_at: datetime
    used_at: datetime | None
    expired: bool  # older than the lifetime the caller gave


@dataclass(frozen=True)
class TokenHolder:
    """Who presents a live access token: its app, its scopes and, for a person's token,
    the viewer (None for an app's own token)."""

    token_id: int
    app_id: int
    scopes: list[str]
    viewer: Viewer | None


@dataclass(frozen=True)
class TokenRef:
    id: int
    app_id: int
    session_id: int | None


@dataclass(frozen=True)
class AuthorisedApp:
    """An app holding live tokens of a person, as they see it in their settings."""

    app_id: int
    name: str
    website: str | None
    scopes: list[str]  # every scope its live tokens carry
    authorised_at: datetime  # its first live token
    last_used_at: datetime | None  # its tokens' last use, to within a few minutes


_APP_COLUMNS = "id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at"


async def create_app(
    conn: Conn,
    *,
    name: str,
    website: str | None,
    redirect_uris: list[str],
    scopes: list[str],
    client_id: str,
    client_secret_hash: str,
) -> OAuthApp:
    row = await conn.fetchrow(
        "INSERT INTO oauth_apps (name, website, redirect_uris, scopes, client_id,"
        " client_secret_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING " + _APP_COLUMNS,
        name,
        website,
        redirect_uris,
        scopes,
        client_id,
        client_secret_hash,
    )
    assert row is not None  # noqa: S101 - RETURNING gives a row
    return OAuthApp(*row)


async def app_by_client_id(conn: Conn, *, client_id: str) -> OAuthApp | None:
    row = await conn.fetchrow(
        "SELECT " + _APP_COLUMNS + " FROM oauth_apps WHERE client_id = $1", client_id
    )
    return OAuthApp(*row) if row else None


async def app_by_id(conn: Conn, *, app_id: int) -> OAuthApp | None:
    row = await conn.fetchrow("SELECT " + _APP_COLUMNS + " FROM oauth_apps WHERE id = $1", app_id)
    return OAuthApp(*row) if row else None


async def create_code(
    conn: Conn,
    *,
    code_hash: str,
    app_id: int,
    account_id: int,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO oauth_codes (code_hash, app_id, account_id, redirect_uri, scopes,"
        " code_challenge) VALUES ($1, $2, $3, $4, $5, $6)",
        code_hash,
        app_id,
        account_id,
        redirect_uri,
        scopes,
        code_challenge,
    )


async def lock_code(conn: Conn, *, code_hash: str, lifetime: timedelta) -> AuthorizationCode | None:
    """The code, locked for this transaction (two redemptions at once: one waits)."""
    row = await conn.fetchrow(
        "SELECT app_id, account_id, redirect_uri, scopes, code_challenge, created_at, used_at,"
        " created_at <= now() - $2::interval FROM oauth_codes WHERE code_hash = $1 FOR UPDATE",
        code_hash,
        lifetime,
    )
    return AuthorizationCode(*row) if row else None


async def mark_code_used(conn: Conn, *, code_hash: str) -> None:
    await conn.execute(
        "UPDATE oauth_codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL",
        code_hash,
    )


async def delete_stale_codes(conn: Conn, *, older_than: timedelta) -> int:
    """Forget codes past any use (kept a while after expiry to recognise a replay)."""
    done: str = await conn.execute(
        "DELETE FROM oauth_codes WHERE created_at < now() - $1::interval", older_than
    )
    return int(done.rsplit(" ", 1)[-1])


async def create_token(
    conn: Conn,
    *,
    token_hash: str,
    app_id: int,
    account_id: int | None,
    session_id: int | None,
    scopes: list[str],
    code_hash: str | None,
) -> datetime:
    """Store a token; its creation time."""
    created: datetime = await conn.fetchval(
        "INSERT INTO oauth_tokens (token_hash, app_id, account_id, session_id, scopes, code_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at",
        token_hash,
        app_id,
        account_id,
        session_id,
        scopes,
        code_hash,
    )
    return created


async def token_holder(conn: Conn, *, token_hash: str) -> TokenHolder | None:
    """The holder of a live token: not revoked, and for a person's token, its session live
    and its account active and approved (one statement)."""
    row = await conn.fetchrow(
        "SELECT t.id, t.app_id, t.scopes, t.account_id, s.id, u.role,"
        " u.confirmed_at IS NOT NULL, u.language"
        " FROM oauth_tokens t"
        " LEFT JOIN sessions s ON s.id = t.session_id AND s.account_id = t.account_id"
        "  AND s.revoked_at IS NULL AND s.expires_at > now()"
        " LEFT JOIN accounts a ON a.id = s.account_id"
        "  AND a.suspended_at IS NULL AND a.deleted_at IS NULL"
        " LEFT JOIN users u ON u.account_id = a.id AND u.approved"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        token_hash,
    )
    if row is None:
        return None
    if row[3] is None:
        return TokenHolder(row[0], row[1], list(row[2]), None)
    if row[5] is None:  # its session ended, or its account is gone
        return None
    return TokenHolder(row[0], row[1], list(row[2]), Viewer(row[3], row[4], row[5], row[6], row[7]))


async def find_token(conn: Conn, *, token_hash: str) -> TokenRef | None:
    row = await conn.fetchrow(
        "SELECT id, app_id, session_id FROM oauth_tokens WHERE token_hash = $1", token_hash
    )
    return TokenRef(*row) if row else None


async def revoke_token(conn: Conn, *, token_id: int) -> None:
    """Revoke the token and end its session."""
    await conn.execute(
        "WITH t AS (UPDATE oauth_tokens SET revoked_at = coalesce(revoked_at, now())"
        " WHERE id = $1 RETURNING session_id)"
        " UPDATE sessions SET revoked_at = now()"
        " WHERE id IN (SELECT session_id FROM t) AND revoked_at IS NULL",
        token_id,
    )


async def revoke_tokens_of_code(conn: Conn, *, code_hash: str) -> int:
    """Revoke every token issued for the code (it was presented again); how many."""
    done: str = await conn.execute(
        "WITH t AS (UPDATE oauth_tokens SET revoked_at = now()"
        " WHERE code_hash = $1 AND revoked_at IS NULL RETURNING session_id)"
        " UPDATE sessions SET revoked_at = now()"
        " WHERE id IN (SELECT session_id FROM t) AND revoked_at IS NULL",
        code_hash,
    )
    return int(done.rsplit(" ", 1)[-1])


async def revoke_app_for_account(conn: Conn, *, account_id: int, app_id: int) -> int:
    """Revoke every live token the account gave the app (and their sessions); how many."""
    rows = await conn.fetch(
        "WITH t AS (UPDATE oauth_tokens SET revoked_at = now()"
        " WHERE account_id = $1 AND app_id = $2 AND revoked_at IS NULL RETURNING session_id),"
        " s AS (UPDATE sessions SET revoked_at = now()"
        "  WHERE id IN (SELECT session_id FROM t) AND revoked_at IS NULL)"
        " SELECT session_id FROM t",
        account_id,
        app_id,
    )
    return len(rows)


async def authorised_apps(conn: Conn, *, account_id: int) -> list[AuthorisedApp]:
    """The apps holding live tokens of the account, the most recently authorised first."""
    rows = await conn.fetch(
        "SELECT p.id, p.name, p.website,"
        " array(SELECT DISTINCT unnest(array_agg_scopes) ORDER BY 1),"
        " first_at, last_used FROM ("
        "  SELECT t.app_id, array_agg(scope) AS array_agg_scopes, min(t.created_at) AS first_at,"
        "   max(coalesce(s.last_used_at, t.created_at)) AS last_used, max(t.id) AS newest"
        "  FROM oauth_tokens t JOIN sessions s ON s.id = t.session_id"
        "   AND s.revoked_at IS NULL AND s.expires_at > now()"
        "  CROSS JOIN LATERAL unnest(t.scopes) AS scope"
        "  WHERE t.account_id = $1 AND t.revoked_at IS NULL"
        "  GROUP BY t.app_id) g JOIN oauth_apps p ON p.id = g.app_id"
        " ORDER BY g.newest DESC LIMIT 200",
        account_id,
    )
    return [AuthorisedApp(r[0], r[1], r[2], list(r[3]), r[4], r[5]) for r in rows]
