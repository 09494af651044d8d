-- The Mastodon client API (stgy/mastodon/): OAuth 2 applications, authorisation codes
-- and access tokens, and each person's read markers of the home and notifications
-- timelines. Secrets are stored as SHA-256 hex digests, never as they were issued.

CREATE TABLE oauth_apps (
    id                  bigint PRIMARY KEY DEFAULT stgy_next_id(),
    name                text NOT NULL,
    website             text,
    redirect_uris       text[] NOT NULL,
    scopes              text[] NOT NULL,
    client_id           text NOT NULL UNIQUE,
    client_secret_hash  text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- Single use (used_at), short-lived (stgy/domain/oauth.py: CODE_LIFETIME).
CREATE TABLE oauth_codes (
    code_hash       text PRIMARY KEY,
    app_id          bigint NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri    text NOT NULL,
    scopes          text[] NOT NULL,
    -- The PKCE S256 challenge, when the app sent one.
    code_challenge  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    used_at         timestamptz
);
CREATE INDEX oauth_codes_created_idx ON oauth_codes (created_at);

-- A person's token is backed by a row of `sessions` (never expiring), so that what ends
-- sessions (a new password, a suspension, a deletion) ends it too, and the faces that
-- check a session (home timeline, streaming) take it as they are. An app's own token
-- (client_credentials) has neither account nor session.
CREATE TABLE oauth_tokens (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    token_hash  text NOT NULL UNIQUE,
    app_id      bigint NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id  bigint REFERENCES accounts (id) ON DELETE CASCADE,
    session_id  bigint REFERENCES sessions (id) ON DELETE CASCADE,
    scopes      text[] NOT NULL,
    -- The code it was issued for: a code presented twice revokes its tokens (RFC 6749 4.1.2).
    code_hash   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT oauth_tokens_person CHECK ((account_id IS NULL) = (session_id IS NULL))
);
CREATE INDEX oauth_tokens_account_idx ON oauth_tokens (account_id, app_id)
    WHERE account_id IS NOT NULL AND revoked_at IS NULL;
CREATE INDEX oauth_tokens_session_idx ON oauth_tokens (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX oauth_tokens_code_idx ON oauth_tokens (code_hash) WHERE code_hash IS NOT NULL;

-- Where a person stopped reading (Mastodon's markers): one row per timeline.
CREATE TABLE timeline_markers (
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline      text NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id  text NOT NULL CHECK (length(last_read_id) BETWEEN 1 AND 64),
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, timeline)
);
